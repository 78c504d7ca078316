import { fields, startFakeServer, type FakeReply, type FakeServer, type RecordedRequest } from './fake-server.ts';

export interface FakeFonnteOptions {
  token?: string;
}

export interface FakeFonnte extends FakeServer {
  readonly token: string;
}

/**
 * A documented failure, `{status:false, reason}`. UNCONFIRMED: the HTTP status (likely 200).
 *
 * @example
 * fake.respondWith(fonnteFailure('insufficient quota'));
 */
export function fonnteFailure(reason: 'token invalid' | 'input invalid' | 'url invalid' | 'target invalid' | 'insufficient quota' | 'JSON format invalid' | (string & {})): FakeReply {
  return { status: 200, body: { status: false, reason } };
}

/**
 * Fake Fonnte: `POST /send` with the raw token as `Authorization` (no "Bearer"), JSON or form
 * fields `target`, `message`, `countryCode`. Applies Fonnte's rule that a leading 0 is replaced
 * by `countryCode` (default 62, "0" disables), so a test can see the Indonesian pitfall in
 * `target` of the answer. Success has array `id` and `target`.
 *
 * @example
 * const fake = await startFakeFonnte({ token: 'fonnte-token' });
 * const provider = createFonnteProvider({ token: fake.token, apiUrl: fake.url });
 */
export async function startFakeFonnte(options: FakeFonnteOptions = {}): Promise<FakeFonnte> {
  const token = options.token ?? 'fonnte-token-5b8e02';
  let sent = 0;
  const protocol = (request: RecordedRequest): FakeReply => {
    if (request.method !== 'POST' || new URL(request.path, 'http://fake').pathname !== '/send') return { status: 404 };
    if (request.headers.authorization !== token) return fonnteFailure('token invalid');
    const body = fields(request);
    if (typeof body.target !== 'string' || !/^\d+$/.test(body.target)) return fonnteFailure('target invalid');
    if (typeof body.message !== 'string' || body.message === '') return fonnteFailure('input invalid');
    const countryCode = typeof body.countryCode === 'string' ? body.countryCode : '62';
    const target = body.target.startsWith('0') && countryCode !== '0' ? `${countryCode}${body.target.slice(1)}` : body.target;
    sent += 1;
    return {
      status: 200,
      body: { detail: 'success! message in queue', id: [String(80367170 + sent)], process: 'pending', requestid: 2937124 + sent, status: true, target: [target] },
    };
  };
  return Object.assign(await startFakeServer(protocol), { token });
}
