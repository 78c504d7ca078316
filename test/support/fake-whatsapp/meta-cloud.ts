import { fields, startFakeServer, type FakeReply, type FakeServer, type RecordedRequest } from './fake-server.ts';

export interface FakeMetaCloudOptions {
  accessToken?: string;
  phoneNumberId?: string;
  apiVersion?: string;
}

export interface FakeMetaCloud extends FakeServer {
  readonly accessToken: string;
  readonly phoneNumberId: string;
  readonly apiVersion: string;
}

/** The Graph errors the fake knows, with the HTTP status each comes with. */
const GRAPH_ERRORS: Record<number, { status: number; message: string; details: string }> = {
  // UNCONFIRMED: the HTTP status of 131026 (it usually arrives as a failed-status webhook).
  131026: { status: 400, message: '(#131026) Message undeliverable', details: 'Message could not be delivered.' },
  131047: { status: 400, message: '(#131047) Re-engagement message', details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' },
  130429: { status: 429, message: '(#130429) Rate limit hit', details: 'Cloud API message throughput has been reached.' },
  131056: { status: 400, message: '(#131056) (Business Account, Consumer Account) pair rate limit hit', details: 'Too many messages sent from the sender phone number to the same recipient phone number in a short period of time.' },
  190: { status: 401, message: 'Error validating access token: Session has expired.', details: '' },
  100: { status: 400, message: '(#100) Invalid parameter', details: 'Invalid parameter.' },
};

/**
 * A Graph API error answer in Meta's documented shape, `{error:{message,type,code,error_data,fbtrace_id}}`.
 *
 * @example
 * fake.respondWith(metaGraphError(131047));
 */
export function metaGraphError(code: 131026 | 131047 | 130429 | 131056 | 190 | 100, headers?: Record<string, string>): FakeReply {
  const { status, message, details } = GRAPH_ERRORS[code]!; // every literal of `code` is a key
  return {
    status,
    ...(headers ? { headers } : {}),
    body: { error: { message, type: 'OAuthException', code, error_data: { messaging_product: 'whatsapp', details }, fbtrace_id: 'AbCdEfGhIjK' } },
  };
}

/**
 * Fake WhatsApp Cloud API: `POST /{apiVersion}/{phoneNumberId}/messages` with
 * `Authorization: Bearer <token>`. A wrong token answers 401 code 190, an unknown phone number
 * id or a body without `messaging_product:"whatsapp"` answers 400 code 100; success is
 * `{messaging_product, contacts:[{input, wa_id}], messages:[{id:"wamid.…"}]}`.
 *
 * @example
 * const fake = await startFakeMetaCloud({ accessToken: 'meta-token', phoneNumberId: '106540352242922' });
 * const provider = createMetaCloudProvider({ accessToken: fake.accessToken, phoneNumberId: fake.phoneNumberId, apiUrl: fake.url });
 */
export async function startFakeMetaCloud(options: FakeMetaCloudOptions = {}): Promise<FakeMetaCloud> {
  const accessToken = options.accessToken ?? 'meta-access-token-EAAG9c1d';
  const phoneNumberId = options.phoneNumberId ?? '106540352242922';
  const apiVersion = options.apiVersion ?? 'v23.0';
  let sent = 0;
  const protocol = (request: RecordedRequest): FakeReply => {
    const route = /^\/(v\d+\.\d+)\/([^/]+)\/messages$/.exec(new URL(request.path, 'http://fake').pathname);
    if (!route || route[1] !== apiVersion || request.method !== 'POST') return { status: 404 };
    if (request.headers.authorization !== `Bearer ${accessToken}`) return metaGraphError(190);
    if (route[2] !== phoneNumberId) return metaGraphError(100);
    const body = fields(request);
    const hasContent = (body.type === 'text' && typeof (body.text as { body?: unknown } | undefined)?.body === 'string') || (body.type === 'template' && typeof body.template === 'object');
    if (body.messaging_product !== 'whatsapp' || typeof body.to !== 'string' || !hasContent) return metaGraphError(100);
    sent += 1;
    const waId = body.to.replace(/^\+/, '');
    const wamid = `wamid.${Buffer.from(`${waId}:${sent}`).toString('base64url')}`;
    return { status: 200, body: { messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: waId }], messages: [{ id: wamid }] } };
  };
  return Object.assign(await startFakeServer(protocol), { accessToken, phoneNumberId, apiVersion });
}
