import { fields, startFakeServer, type FakeReply, type FakeServer, type RecordedRequest } from './fake-server.ts';

export interface FakeGreenApiOptions {
  instanceId?: string;
  token?: string;
}

export interface FakeGreenApi extends FakeServer {
  readonly instanceId: string;
  readonly token: string;
}

/** Green API's documented 466 body (quota exceeded on the Developer plan). */
export const greenApiQuotaExceeded: FakeReply = {
  status: 466,
  body: {
    invokeStatus: { method: 'sendmessage', used: 3, total: 3, status: 'QUOTE_EXCEEDED', description: 'Monthly quota has been exceeded.' },
    correspondentsStatus: { status: 'CORRESPONDENTS_QUOTE_EXCEEDED', description: 'Monthly correspondents quota has been exceeded.' },
  },
};

/** A 400 with one of the documented texts. UNCONFIRMED: the body shape; the docs give only the text. */
export function greenApi400(text: 'bad request data' | 'instance in starting process try later' | 'instance account not authorized'): FakeReply {
  return { status: 400, body: text };
}

/**
 * Fake Green API: `POST /waInstance{instanceId}/sendMessage/{token}` with `{chatId, message}`.
 * A wrong token answers 401, a wrong instance 403 (the documented codes; the bodies are
 * UNCONFIRMED, so they are empty); a bad chatId or a message over 20000 characters answers 400.
 *
 * @example
 * const fake = await startFakeGreenApi({ instanceId: '1101000001', token: 'green-token' });
 * const provider = createGreenApiProvider({ instanceId: fake.instanceId, token: fake.token, apiUrl: fake.url });
 */
export async function startFakeGreenApi(options: FakeGreenApiOptions = {}): Promise<FakeGreenApi> {
  const instanceId = options.instanceId ?? '1101000001';
  const token = options.token ?? 'green-api-token-0f3c9a';
  let sent = 0;
  const protocol = (request: RecordedRequest): FakeReply => {
    const route = /^\/waInstance([^/]+)\/([A-Za-z]+)\/([^/?]+)$/.exec(request.path);
    if (!route || request.method !== 'POST') return { status: 404 };
    const [, id, method, pathToken] = route;
    if (id !== instanceId) return { status: 403 };
    if (decodeURIComponent(pathToken ?? '') !== token) return { status: 401 };
    if (method !== 'sendMessage') return { status: 404 };
    const { chatId, message } = fields(request);
    if (typeof chatId !== 'string' || !/^\d{8,15}@(c|g)\.us$/.test(chatId) || typeof message !== 'string') return greenApi400('bad request data');
    if (message.length > 20_000) return { status: 400, body: "Validation failed. Details: 'message' length must be less than or equal to 20000" };
    sent += 1;
    return { status: 200, body: { idMessage: `3EB0C767D097B7C7${sent.toString(16).toUpperCase().padStart(4, '0')}` } };
  };
  return Object.assign(await startFakeServer(protocol), { instanceId, token });
}
