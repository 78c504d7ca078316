import type { OutboundWhatsApp, SendResult, WhatsAppProvider } from '../provider.ts';
import {
  classifyHttpStatus,
  DEFAULT_TIMEOUT_MS,
  e164Digits,
  excerpt,
  guardedProvider,
  invalidNumber,
  isRecord,
  postToProvider,
  trimBaseUrl,
  unreadableSuccess,
  type ProviderReply,
} from './provider-http.ts';
import { DEFAULT_EGRESS, type ProviderEgress } from './egress.ts';

export interface GreenApiConfig {
  instanceId: string;
  /** apiTokenInstance. It travels in the URL path, so it must never reach a reason or a log. */
  token: string;
  /** Per instance, shown in the console; default https://api.green-api.com. */
  apiUrl?: string;
  timeoutMs?: number;
  /** Where requests may go; default: the documented hosts only, every address checked. */
  egress?: ProviderEgress;
}

/**
 * Green API (linked-device WhatsApp): `POST {apiUrl}/waInstance{id}/sendMessage/{token}`.
 *
 * @example
 * const provider = createGreenApiProvider({ instanceId: '1101000001', token: process.env.GREEN_API_TOKEN! });
 * await provider.send({ to: '+966512345678', text: 'مرحبا', idempotencyKey, outboundId });
 */
export function createGreenApiProvider(config: GreenApiConfig): WhatsAppProvider {
  const url = `${trimBaseUrl(config.apiUrl ?? 'https://api.green-api.com')}/waInstance${encodeURIComponent(config.instanceId)}/sendMessage/${encodeURIComponent(config.token)}`;
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return guardedProvider('green-api', [config.token, encodeURIComponent(config.token)], async (message: OutboundWhatsApp) => {
    const digits = e164Digits(message.to);
    if (!digits) return invalidNumber(message.to);
    // Green API has no client reference field, so the idempotency key cannot travel with the message.
    const outcome = await postToProvider({
      provider: 'green-api',
      egress: config.egress ?? DEFAULT_EGRESS,
      url,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chatId: `${digits}@c.us`, message: message.text }),
      timeoutMs,
    });
    return outcome.kind === 'failed' ? outcome.result : interpret(outcome.reply);
  });
}

function interpret(reply: ProviderReply): SendResult {
  const { status, json } = reply;
  if (status >= 200 && status < 300) {
    const id = isRecord(json) ? json.idMessage : undefined;
    return typeof id === 'string' && id.length > 0 ? { kind: 'accepted', externalId: id } : unreadableSuccess('green-api', status);
  }
  if (status === 466) {
    // The account's monthly quota, not the message's fault: another provider can still send it.
    return { kind: 'transient', reason: 'green-api quota exceeded (HTTP 466)', code: 'http_466' };
  }
  if (status === 400) {
    // UNCONFIRMED: the docs list the 400 texts but not the body shape, so match the raw text.
    const text = reply.text.toLowerCase();
    if (text.includes('starting') || text.includes('not authorized')) {
      return { kind: 'transient', reason: `green-api instance not ready: ${excerpt(reply.text)}`, code: 'instance_not_ready' };
    }
    return { kind: 'permanent', reason: `green-api rejected the message: ${excerpt(reply.text) || 'bad request data'}`, code: 'http_400' };
  }
  return classifyHttpStatus('green-api', reply);
}
