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
  retryAfterMs,
  trimBaseUrl,
  unreadableSuccess,
  type ProviderReply,
} from './provider-http.ts';
import { DEFAULT_EGRESS, type ProviderEgress } from './egress.ts';

export interface MetaCloudConfig {
  accessToken: string;
  phoneNumberId: string;
  /** Default https://graph.facebook.com. */
  apiUrl?: string;
  /** Default v23.0. */
  apiVersion?: string;
  timeoutMs?: number;
  /** Where requests may go; default: the documented hosts only, every address checked. */
  egress?: ProviderEgress;
}

/**
 * Graph error codes we act on (Meta: branch on `code`, not on titles). Anything else falls
 * back to the HTTP status rules.
 */
const GRAPH_ERRORS: Record<number, { kind: 'transient' | 'permanent'; reason: string; retryAfterMs?: number }> = {
  131026: { kind: 'permanent', reason: 'message undeliverable: not a WhatsApp user or cannot receive it' },
  // The caller turns this into a template send or a draft; a fallback provider would bypass Meta's rule.
  131047: { kind: 'permanent', reason: 're-engagement: more than 24 hours since the customer last wrote' },
  130429: { kind: 'transient', reason: 'throughput limit reached' },
  // UNCONFIRMED: "about 1 message per 6 s" to the same user comes from a write-up, not Meta's table.
  131056: { kind: 'transient', reason: 'pair rate limit: too many messages to this customer', retryAfterMs: 6_000 },
  // UNCONFIRMED: 131049/131050 wording was not checked against Meta's table.
  131049: { kind: 'permanent', reason: 'per-user marketing limit' },
  131050: { kind: 'permanent', reason: 'customer stopped marketing messages' },
  // An expired or invalid token is this provider's problem; the next provider may work.
  190: { kind: 'transient', reason: 'access token expired or invalid' },
  100: { kind: 'permanent', reason: 'invalid parameter' },
};

/**
 * Meta WhatsApp Cloud API: `POST {apiUrl}/{apiVersion}/{phoneNumberId}/messages` with a Bearer
 * token. Sends `message.template` instead of the text when one is set (the only thing Meta
 * delivers outside the 24-hour window).
 *
 * @example
 * const provider = createMetaCloudProvider({ accessToken: process.env.META_TOKEN!, phoneNumberId: '106540352242922' });
 * await provider.send({ to: '+966512345678', text: 'مرحبا', idempotencyKey, outboundId });
 */
export function createMetaCloudProvider(config: MetaCloudConfig): WhatsAppProvider {
  const url = `${trimBaseUrl(config.apiUrl ?? 'https://graph.facebook.com')}/${encodeURIComponent(config.apiVersion ?? 'v23.0')}/${encodeURIComponent(config.phoneNumberId)}/messages`;
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return guardedProvider('meta-cloud', [config.accessToken], async (message: OutboundWhatsApp) => {
    const to = e164Digits(message.to);
    if (!to) return invalidNumber(message.to);
    // The Cloud API has no idempotency key on send; deduplication relies on our outbound row.
    const outcome = await postToProvider({
      provider: 'meta-cloud',
      egress: config.egress ?? DEFAULT_EGRESS,
      url,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${config.accessToken}` },
      body: JSON.stringify(metaPayload(to, message)),
      timeoutMs,
    });
    return outcome.kind === 'failed' ? outcome.result : interpret(outcome.reply);
  });
}

/**
 * The request body: a template when one is set, otherwise plain text.
 *
 * @example
 * metaPayload('966512345678', { to: '+966512345678', text: 'hi', idempotencyKey: 'k', outboundId: 'o' }).type // 'text'
 */
export function metaPayload(to: string, message: OutboundWhatsApp): Record<string, unknown> {
  const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to };
  const { template } = message;
  if (!template) return { ...base, type: 'text', text: { preview_url: false, body: message.text } };
  const parameters = template.parameters.map((text) => ({ type: 'text', text }));
  return {
    ...base,
    type: 'template',
    template: {
      name: template.name,
      language: { code: template.language },
      ...(parameters.length > 0 ? { components: [{ type: 'body', parameters }] } : {}),
    },
  };
}

function interpret(reply: ProviderReply): SendResult {
  const { status, json } = reply;
  const error = isRecord(json) && isRecord(json.error) ? json.error : undefined;
  if (error && typeof error.code === 'number') {
    const known = GRAPH_ERRORS[error.code];
    const code = String(error.code);
    const said = typeof error.message === 'string' ? error.message : '';
    const details = isRecord(error.error_data) && typeof error.error_data.details === 'string' ? error.error_data.details : '';
    const text = excerpt([said, details].filter(Boolean).join(' — '));
    if (known?.kind === 'permanent') return { kind: 'permanent', reason: `meta-cloud: ${known.reason}${text ? ` (${text})` : ''}`, code };
    if (known) {
      const wait = retryAfterMs(reply.headers) ?? known.retryAfterMs;
      return { kind: 'transient', reason: `meta-cloud: ${known.reason}${text ? ` (${text})` : ''}`, code, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
    }
    const byStatus = classifyHttpStatus('meta-cloud', reply);
    return { ...byStatus, reason: `${byStatus.reason}${text ? `: ${text}` : ''}`, code };
  }
  if (status >= 200 && status < 300) {
    const messages = isRecord(json) ? json.messages : undefined;
    const first: unknown = Array.isArray(messages) ? messages[0] : undefined;
    const id = isRecord(first) ? first.id : undefined;
    return typeof id === 'string' && id.length > 0 ? { kind: 'accepted', externalId: id } : unreadableSuccess('meta-cloud', status);
  }
  return classifyHttpStatus('meta-cloud', reply);
}
