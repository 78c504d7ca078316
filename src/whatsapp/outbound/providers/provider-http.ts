import { fetch } from 'undici';
import type { OutboundWhatsApp, SendResult, WhatsAppProvider, RealProviderName } from '../provider.ts';
import type { ProviderEgress } from './egress.ts';

/**
 * What the four HTTP providers share: one POST with a deadline, a body read that survives
 * malformed JSON, the HTTP-status rules of issue 5, and a last line of defence that keeps
 * credentials out of every reason. Each provider only adds its URL, payload and body rules.
 */

/** A response that arrived in full. `json` is undefined when the body was not valid JSON. */
export interface ProviderReply {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** Every result but accepted: what a failed send becomes. */
export type SendFailure = Exclude<SendResult, { kind: 'accepted' }>;

export type PostOutcome = { kind: 'reply'; reply: ProviderReply } | { kind: 'failed'; result: SendFailure };

export interface ProviderPost {
  provider: RealProviderName;
  url: string;
  /** Where this provider may send: checked before the request and at connect time. */
  egress: ProviderEgress;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * POSTs and reads the whole body under one deadline (AbortSignal.timeout also aborts a body
 * that stalls half-way). Never throws: a network failure becomes a transient result.
 *
 * @example
 * const outcome = await postToProvider({ url, headers: { 'content-type': 'application/json' }, body, timeoutMs: 10_000 });
 * if (outcome.kind === 'failed') return outcome.result;
 */
export async function postToProvider(post: ProviderPost): Promise<PostOutcome> {
  const url = new URL(post.url);
  // Settings saved before the egress rules (or changed in the database) are checked here too.
  const refused = post.egress.refusal(post.provider, url);
  if (refused) return { kind: 'failed', result: { kind: 'transient', reason: refused, code: 'api_url_refused' } };
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: post.headers,
      body: post.body,
      signal: AbortSignal.timeout(post.timeoutMs),
      // No provider documents a redirect on send; following one would replay a URL that
      // carries Green API's token to wherever the Location points.
      redirect: 'error',
      dispatcher: post.egress.dispatcher(url),
    });
    const text = await response.text();
    return { kind: 'reply', reply: { status: response.status, headers: response.headers, text, json: parseJson(text) } };
  } catch (error) {
    return { kind: 'failed', result: networkFailure(error, post.timeoutMs) };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Names the failure by its error code only: the error's message can hold the request URL,
 * and Green API's token is part of that URL.
 */
function networkFailure(error: unknown, timeoutMs: number): SendFailure {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { kind: 'transient', reason: `no answer within ${timeoutMs} ms`, code: 'timeout' };
  }
  const code = errorCode(error);
  if (code === 'EDEALIX_BLOCKED_ADDRESS') return { kind: 'transient', reason: 'the API host resolves to an address that is not public: not called', code: 'blocked_address' };
  if (code === 'ECONNREFUSED') return { kind: 'transient', reason: 'connection refused', code: 'connection_refused' };
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return { kind: 'transient', reason: 'connection reset', code: 'connection_reset' };
  if (!code && causeMessage(error) === 'unexpected redirect') return { kind: 'transient', reason: 'unexpected redirect', code: 'unexpected_redirect' };
  return { kind: 'transient', reason: `network error${code ? ` (${code})` : ''}`, code: 'network_error' };
}

/** undici wraps the socket error: TypeError('fetch failed') with `cause.code`. */
function errorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** undici's fixed redirect message; compared whole, never copied, since other messages can hold the URL. */
function causeMessage(error: unknown): string | undefined {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error ? cause.message : undefined;
}

/**
 * Retry-After as milliseconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 *
 * @example
 * retryAfterMs(new Headers({ 'retry-after': '7' })) // 7000
 */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The rules that hold for every provider once its own body rules had nothing to say:
 * 429 and 5xx (and 408/425/499) are transient; 401/403 are transient too, because one
 * provider's refused credentials say nothing about the next provider; any other status is
 * permanent (the request itself was wrong, another provider would not fix it).
 *
 * @example
 * classifyHttpStatus('green-api', reply) // { kind: 'transient', code: 'http_503', … }
 */
export function classifyHttpStatus(provider: RealProviderName, reply: Pick<ProviderReply, 'status' | 'headers'>): SendFailure {
  const { status } = reply;
  const code = `http_${status}`;
  if (status === 429) {
    const wait = retryAfterMs(reply.headers);
    return { kind: 'transient', reason: `${provider} rate limit (HTTP 429)`, code, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
  }
  if (status === 401 || status === 403) return { kind: 'transient', reason: `${provider} refused the credentials (HTTP ${status})`, code };
  if (status >= 500 || status === 408 || status === 425 || status === 499) return { kind: 'transient', reason: `${provider} unavailable (HTTP ${status})`, code };
  return { kind: 'permanent', reason: `${provider} rejected the request (HTTP ${status})`, code };
}

/** A 2xx whose body we cannot read: the provider may have queued the message, but we have no id to track it. */
export function unreadableSuccess(provider: RealProviderName, status: number): SendFailure {
  return { kind: 'transient', reason: `${provider} answered HTTP ${status} with a body that is not the documented success`, code: 'malformed_response' };
}

/** E.164 as the providers need it: `+` and 8–15 digits. Anything else would be guessed at by the provider. */
export function e164Digits(to: string): string | undefined {
  return /^\+[1-9]\d{7,14}$/.test(to) ? to.slice(1) : undefined;
}

export function invalidNumber(to: string): SendFailure {
  // The number is the customer's, not a credential; a short echo helps whoever reads the log.
  return { kind: 'permanent', reason: `not an E.164 number: ${JSON.stringify(to.slice(0, 32))}`, code: 'invalid_number' };
}

/**
 * Control, zero-width and bidi-override characters: in a reason they could rewrite a terminal,
 * forge a log line or make a text read backwards in the admin's UI.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** The longest reason a provider may give; a quoted excerpt is shorter still. */
export const MAX_REASON_LENGTH = 300;

/** A short, single-line, printable excerpt of provider text for a reason. */
export function excerpt(text: string, max = 160): string {
  const line = text.slice(0, 4 * max).replace(UNPRINTABLE, ' ').replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/**
 * Wraps a provider's send so it can neither throw nor leak: any escaped error becomes a
 * transient result, and every secret is cut out of the reason (a provider could echo a
 * token back in an error body, and Green API's token sits in the URL); the reason is kept
 * printable and at most MAX_REASON_LENGTH long.
 *
 * @example
 * return guardedProvider('fonnte', [config.token], (message) => sendViaFonnte(config, message));
 */
export function guardedProvider(
  name: RealProviderName,
  secrets: readonly string[],
  send: (message: OutboundWhatsApp) => Promise<SendResult>,
): WhatsAppProvider {
  const redact = (text: string) => secrets.filter((secret) => secret.length > 0).reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  return {
    name,
    async send(message) {
      let result: SendResult;
      try {
        result = await send(message);
      } catch (error) {
        result = { kind: 'transient', reason: `${name} send failed unexpectedly: ${error instanceof Error ? error.name : 'unknown error'}`, code: 'unexpected_error' };
      }
      if (result.kind === 'accepted') return result;
      const reason = redact(result.reason).replace(UNPRINTABLE, ' ');
      return { ...result, reason: reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason };
    },
  };
}

/** `https://host/` and `https://host` both work as a configured base URL. */
export function trimBaseUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
