import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
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

export interface FonnteConfig {
  /** The device token, sent as the raw Authorization header (no "Bearer"). */
  token: string;
  /** Default https://api.fonnte.com. */
  apiUrl?: string;
  timeoutMs?: number;
  /** Where requests may go; default: the documented hosts only, every address checked. */
  egress?: ProviderEgress;
}

/** Reasons about the device or account: another provider may well deliver. */
const ACCOUNT_REASONS = /token|quota|disconnect|device|expired|package/i;
/** Reasons about the message itself: another provider would fail the same way. */
const MESSAGE_REASONS = /target invalid|input invalid|url invalid|json format invalid|invalid target|invalid number/i;

/**
 * Fonnte: `POST {apiUrl}/send` with JSON. The country code is always explicit because
 * Fonnte's default is Indonesia (62) and would turn a Saudi 05… into +62 5….
 *
 * @example
 * const provider = createFonnteProvider({ token: process.env.FONNTE_TOKEN! });
 * await provider.send({ to: '+966512345678', text: 'مرحبا', idempotencyKey, outboundId });
 */
export function createFonnteProvider(config: FonnteConfig): WhatsAppProvider {
  const url = `${trimBaseUrl(config.apiUrl ?? 'https://api.fonnte.com')}/send`;
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return guardedProvider('fonnte', [config.token], async (message: OutboundWhatsApp) => {
    const target = e164Digits(message.to);
    const countryCode = target ? parsePhoneNumberFromString(message.to)?.countryCallingCode : undefined;
    if (!target || !countryCode) return invalidNumber(message.to);
    // Fonnte has no client reference field, so the idempotency key cannot travel with the message.
    const outcome = await postToProvider({
      provider: 'fonnte',
      egress: config.egress ?? DEFAULT_EGRESS,
      url,
      headers: { 'content-type': 'application/json', authorization: config.token },
      body: JSON.stringify({ target, message: message.text, countryCode }),
      timeoutMs,
    });
    return outcome.kind === 'failed' ? outcome.result : interpret(outcome.reply);
  });
}

function interpret(reply: ProviderReply): SendResult {
  const { status, json } = reply;
  if (status === 429 || status >= 500) return classifyHttpStatus('fonnte', reply);
  // UNCONFIRMED: the HTTP status of a `status:false` answer (likely 200), so branch on the body.
  if (isRecord(json) && (json.status === false || json.status === 'false')) {
    const said = typeof json.reason === 'string' ? json.reason : '';
    if (MESSAGE_REASONS.test(said)) return { kind: 'permanent', reason: `fonnte rejected the message: ${excerpt(said)}`, code: 'rejected' };
    // Account reasons and unknown ones alike: Fonnte did not take the message, so the next provider may.
    const code = ACCOUNT_REASONS.test(said) ? 'account' : 'rejected';
    return { kind: 'transient', reason: `fonnte did not send${said ? `: ${excerpt(said)}` : ''}`, code };
  }
  if (status >= 200 && status < 300) {
    const ids = isRecord(json) && json.status === true ? json.id : undefined;
    const first: unknown = Array.isArray(ids) ? ids[0] : undefined;
    if (typeof first === 'string' || typeof first === 'number') return { kind: 'accepted', externalId: String(first) };
    return unreadableSuccess('fonnte', status);
  }
  return classifyHttpStatus('fonnte', reply);
}
