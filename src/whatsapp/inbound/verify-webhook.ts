import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook authenticity checks (whatsapp-providers.md §1–4 "Authenticity"). Pure functions: the
 * route reads headers, query and the raw body and passes them in. Every comparison is
 * constant-time on equal-length buffers, so neither the content nor the length of a guessed
 * secret leaks through response timing, and `timingSafeEqual` can never throw on a length mismatch.
 *
 * An empty configured secret never authenticates anything: an HMAC with an empty key, or an
 * empty token, is something any attacker can produce, so a missing configuration must fail closed.
 */

/**
 * Compares two strings in constant time: both are hashed with SHA-256 first, so the buffers given
 * to `timingSafeEqual` always have the same length whatever the inputs.
 *
 * @example
 * constantTimeEqual('s3cret', 's3cret') // true
 * constantTimeEqual('s3cret', 's3cre')  // false
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const digestA = createHash('sha256').update(a, 'utf8').digest();
  const digestB = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(digestA, digestB);
}

export interface VerifyMetaSignatureOptions {
  /** The request body exactly as received. Never re-serialize parsed JSON: Meta signs its own bytes (escaped unicode and all). */
  rawBody: Uint8Array | Buffer;
  /** The `X-Hub-Signature-256` header: `sha256=<64 hex digits>`. */
  header: string | undefined;
  /** The Meta app secret (App Dashboard → Settings → Basic). */
  appSecret: string;
}

const META_SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

/**
 * Checks Meta's `X-Hub-Signature-256` header: HMAC-SHA256 of the exact raw body with the app
 * secret. Hex in either case is accepted; a missing or malformed header is `false`.
 *
 * @example
 * const rawBody = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');
 * const header = 'sha256=' + createHmac('sha256', 'app-secret').update(rawBody).digest('hex');
 * verifyMetaSignature({ rawBody, header, appSecret: 'app-secret' }) // true
 */
export function verifyMetaSignature({ rawBody, header, appSecret }: VerifyMetaSignatureOptions): boolean {
  if (appSecret === '' || header === undefined) return false;
  const match = META_SIGNATURE.exec(header.trim());
  const hex = match?.[1];
  if (hex === undefined) return false;
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  // Both are 32 bytes: the regex fixed the header at 64 hex digits.
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

export interface VerifyMetaHandshakeOptions {
  /** `hub.mode` query parameter. */
  mode: string | undefined;
  /** `hub.verify_token` query parameter. */
  verifyToken: string | undefined;
  /** `hub.challenge` query parameter. */
  challenge: string | undefined;
  /** The verify token configured in the Meta App Dashboard and in our settings. */
  expectedToken: string;
}

/** Meta's challenge is an integer; anything beyond short visible ASCII is refused rather than reflected into a response. */
const META_CHALLENGE = /^[\x21-\x7e]{1,256}$/;

/**
 * Meta's subscription handshake: `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`.
 * On `ok: true` the route answers 200 with the challenge as the plain-text body; otherwise 403.
 *
 * @example
 * verifyMetaHandshake({ mode: 'subscribe', verifyToken: 't', challenge: '1158201444', expectedToken: 't' })
 * // { ok: true, challenge: '1158201444' }
 */
export function verifyMetaHandshake({ mode, verifyToken, challenge, expectedToken }: VerifyMetaHandshakeOptions): { ok: true; challenge: string } | { ok: false } {
  if (mode !== 'subscribe' || expectedToken === '' || verifyToken === undefined || challenge === undefined) return { ok: false };
  if (!META_CHALLENGE.test(challenge)) return { ok: false };
  return constantTimeEqual(verifyToken, expectedToken) ? { ok: true, challenge } : { ok: false };
}

export interface VerifyGreenApiAuthorizationOptions {
  /** The `Authorization` header. */
  header: string | undefined;
  /** The instance's `webhookUrlToken` setting. */
  expectedToken: string;
}

/**
 * Green API sends `webhookUrlToken` in the `Authorization` header. Its own integration guard
 * compares `header.split(' ')[1]`, so the scheme is presumably `Bearer`, but that is UNCONFIRMED:
 * any single scheme word before the token is accepted, and so is the bare token.
 *
 * @example
 * verifyGreenApiAuthorization({ header: 'Bearer tok-123', expectedToken: 'tok-123' }) // true
 * verifyGreenApiAuthorization({ header: 'tok-123', expectedToken: 'tok-123' })        // true
 * verifyGreenApiAuthorization({ header: undefined, expectedToken: 'tok-123' })        // false
 */
export function verifyGreenApiAuthorization({ header, expectedToken }: VerifyGreenApiAuthorizationOptions): boolean {
  if (header === undefined || expectedToken === '') return false;
  const parts = header.trim().split(/\s+/);
  // One part: the bare token. Two parts: `<scheme> <token>`. More: not a header we understand.
  const token = parts.length === 1 ? parts[0] : parts.length === 2 ? parts[1] : undefined;
  if (token === undefined || token === '') return false;
  return constantTimeEqual(token, expectedToken);
}

/**
 * The header we read Fonnte's webhook secret from. UNCONFIRMED: Fonnte's Feb 2025 changelog
 * announces a webhook "secret key" without naming the field. This name is our guess; log one real
 * request and correct it. The body field `secret` is checked as well.
 */
export const FONNTE_SECRET_HEADER = 'x-fonnte-secret';
/** The body field we read Fonnte's webhook secret from (UNCONFIRMED, see FONNTE_SECRET_HEADER). */
export const FONNTE_SECRET_BODY_FIELD = 'secret';

export interface VerifyFonnteSecretOptions {
  /** The value of the `x-fonnte-secret` header (FONNTE_SECRET_HEADER), if any. */
  header: string | undefined;
  /** The decoded JSON body; its `secret` string field (FONNTE_SECRET_BODY_FIELD) is checked too. */
  body: unknown;
  /** The secret configured in the Fonnte device settings and in ours. */
  expectedSecret: string;
}

/**
 * Checks Fonnte's optional webhook secret, from the header or the body field. Returns `false`
 * when no secret is configured: the route calls this only when one is, and otherwise relies on
 * the secret path key alone.
 *
 * @example
 * verifyFonnteSecret({ header: undefined, body: { secret: 'fonnte-s3cret', sender: '966512345678' }, expectedSecret: 'fonnte-s3cret' }) // true
 */
export function verifyFonnteSecret({ header, body, expectedSecret }: VerifyFonnteSecretOptions): boolean {
  if (expectedSecret === '') return false;
  const bodySecret = typeof body === 'object' && body !== null && FONNTE_SECRET_BODY_FIELD in body ? body[FONNTE_SECRET_BODY_FIELD] : undefined;
  // Which of the two was present is no secret; only the value comparison must be constant-time.
  const headerMatches = header !== undefined && header !== '' && constantTimeEqual(header.trim(), expectedSecret);
  const bodyMatches = typeof bodySecret === 'string' && bodySecret !== '' && constantTimeEqual(bodySecret, expectedSecret);
  return headerMatches || bodyMatches;
}
