import { createHash } from 'node:crypto';
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

export interface UltramsgConfig {
  /** For example `instance1150`. */
  instanceId: string;
  token: string;
  /** Default https://api.ultramsg.com. */
  apiUrl?: string;
  timeoutMs?: number;
  /** Where requests may go; default: the documented hosts only, every address checked. */
  egress?: ProviderEgress;
}

/** UNCONFIRMED: Ultramsg documents no length limit for referenceId; 64 is a conservative guess. */
const MAX_REFERENCE_ID = 64;

/** Errors about the Ultramsg account or instance: the next provider may well work. */
const ACCOUNT_ERRORS = /wrong token|instance not found|non-payment|stopped|not authori[sz]ed|expired|pending/i;

/**
 * Ultramsg: `POST {apiUrl}/{instanceId}/messages/chat`, form-encoded, token in the body
 * (the documented and PHP SDK form; a body field keeps the token out of URLs and access logs).
 *
 * @example
 * const provider = createUltramsgProvider({ instanceId: 'instance1150', token: process.env.ULTRAMSG_TOKEN! });
 * await provider.send({ to: '+966512345678', text: 'مرحبا', idempotencyKey, outboundId });
 */
export function createUltramsgProvider(config: UltramsgConfig): WhatsAppProvider {
  const url = `${trimBaseUrl(config.apiUrl ?? 'https://api.ultramsg.com')}/${encodeURIComponent(config.instanceId)}/messages/chat`;
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return guardedProvider('ultramsg', [config.token], async (message: OutboundWhatsApp) => {
    if (!e164Digits(message.to)) return invalidNumber(message.to);
    const form = new URLSearchParams({
      token: config.token,
      to: message.to,
      body: message.text,
      referenceId: referenceId(message.idempotencyKey),
    });
    const outcome = await postToProvider({
      provider: 'ultramsg',
      egress: config.egress ?? DEFAULT_EGRESS,
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      timeoutMs,
    });
    return outcome.kind === 'failed' ? outcome.result : interpret(outcome.reply);
  });
}

/**
 * The idempotency key as Ultramsg's client reference. A long key is hashed rather than cut,
 * because two keys sharing a 64-character prefix must not share a reference.
 */
export function referenceId(idempotencyKey: string): string {
  if (idempotencyKey.length <= MAX_REFERENCE_ID) return idempotencyKey;
  return createHash('sha256').update(idempotencyKey).digest('hex').slice(0, MAX_REFERENCE_ID);
}

function interpret(reply: ProviderReply): SendResult {
  const { status, json } = reply;
  // Rate limits and outages first: their bodies (often an HTML error page) say nothing more.
  if (status === 429 || status >= 500) return classifyHttpStatus('ultramsg', reply);
  // UNCONFIRMED: the HTTP status that comes with an `error` body; the body decides either way.
  if (isRecord(json) && json.error !== undefined) return ultramsgError(json.error);
  const isSuccess = status >= 200 && status < 300;
  if (isSuccess && isRecord(json)) {
    // `sent` is the string "true"; a boolean is accepted too in case they ever fix the type.
    // UNCONFIRMED: this success shape comes from client code, not the docs page itself.
    const sent = json.sent === 'true' || json.sent === true;
    const id = json.id;
    if (sent && (typeof id === 'number' || (typeof id === 'string' && id.length > 0))) return { kind: 'accepted', externalId: String(id) };
    if (json.sent === 'false' || json.sent === false) {
      const said = typeof json.message === 'string' ? json.message : '';
      return /invalid|not (a )?whatsapp/i.test(said)
        ? { kind: 'permanent', reason: `ultramsg did not send: ${excerpt(said)}`, code: 'not_sent' }
        : { kind: 'transient', reason: `ultramsg did not send${said ? `: ${excerpt(said)}` : ''}`, code: 'not_sent' };
    }
  }
  if (isSuccess) return unreadableSuccess('ultramsg', status);
  // The PHP SDK reads 404 as "instance not found or pending": the instance's problem.
  if (status === 404) return { kind: 'transient', reason: 'ultramsg instance not found or pending (HTTP 404)', code: 'http_404' };
  return classifyHttpStatus('ultramsg', reply);
}

function ultramsgError(error: unknown): SendResult {
  if (Array.isArray(error)) {
    // Field validation, e.g. [{"to":"is required"}]: the request is wrong, not the provider.
    return { kind: 'permanent', reason: `ultramsg rejected the message: ${excerpt(JSON.stringify(error))}`, code: 'validation' };
  }
  const text = typeof error === 'string' ? error : JSON.stringify(error);
  if (ACCOUNT_ERRORS.test(text)) return { kind: 'transient', reason: `ultramsg account problem: ${excerpt(text)}`, code: 'account' };
  if (/invalid|not (a )?whatsapp|is required/i.test(text)) return { kind: 'permanent', reason: `ultramsg rejected the message: ${excerpt(text)}`, code: 'validation' };
  // An error we do not know: Ultramsg did not take the message, so another provider may try.
  return { kind: 'transient', reason: `ultramsg error: ${excerpt(text)}`, code: 'ultramsg_error' };
}
