import { fields, startFakeServer, type FakeReply, type FakeServer, type RecordedRequest } from './fake-server.ts';

export interface FakeUltramsgOptions {
  instanceId?: string;
  token?: string;
}

export interface FakeUltramsg extends FakeServer {
  readonly instanceId: string;
  readonly token: string;
}

/** Ultramsg's error texts as seen in client code. UNCONFIRMED: the HTTP status that comes with them (200 here). */
export const ultramsgErrors = {
  wrongToken: 'Wrong token. Please provide token as a GET parameter.',
  instanceNotFound: 'Instance not found',
  nonPayment: 'Your instance has been Stopped due to non-payment, please renew your subscription.',
} as const;

export function ultramsgError(error: string | Array<Record<string, string>>, status = 200): FakeReply {
  return { status, body: { error } };
}

/**
 * Fake Ultramsg: `POST /{instanceId}/messages/chat`, form-encoded or JSON, `token` in the body
 * or the query. Answers `{"sent":"true","message":"ok","id":<number>}` (a string "true" and a
 * numeric id, as the real one does), `{"error":"Wrong token…"}` for a wrong token, 404
 * `{"error":"Instance not found"}` for a wrong instance, and `{"error":[{"to":"is required"}]}`
 * for missing fields.
 *
 * @example
 * const fake = await startFakeUltramsg({ instanceId: 'instance1150', token: 'ultra-token' });
 * const provider = createUltramsgProvider({ instanceId: fake.instanceId, token: fake.token, apiUrl: fake.url });
 */
export async function startFakeUltramsg(options: FakeUltramsgOptions = {}): Promise<FakeUltramsg> {
  const instanceId = options.instanceId ?? 'instance1150';
  const token = options.token ?? 'ultramsg-token-7d21e4';
  let sent = 0;
  const protocol = (request: RecordedRequest): FakeReply => {
    const url = new URL(request.path, 'http://fake');
    const route = /^\/([^/]+)\/messages\/chat$/.exec(url.pathname);
    if (!route || request.method !== 'POST') return { status: 404 };
    if (route[1] !== instanceId) return ultramsgError(ultramsgErrors.instanceNotFound, 404);
    const body = fields(request);
    if ((body.token ?? url.searchParams.get('token')) !== token) return ultramsgError(ultramsgErrors.wrongToken);
    const missing = (['to', 'body'] as const).filter((name) => typeof body[name] !== 'string' || body[name] === '');
    if (missing.length > 0) return ultramsgError(missing.map((name) => ({ [name]: 'is required' })));
    sent += 1;
    return { status: 200, body: { sent: 'true', message: 'ok', id: sent } };
  };
  return Object.assign(await startFakeServer(protocol), { instanceId, token });
}
