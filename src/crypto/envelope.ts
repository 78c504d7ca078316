import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Bytes in an AES-256 key. */
const KEY_BYTES = 32;
/** 96-bit IVs are the size GCM is specified for; other sizes go through GHASH and weaken it. */
const IV_BYTES = 12;
/** Full-length tag: Node would otherwise accept truncated tags (down to 4 bytes) on open. */
const TAG_BYTES = 16;
const VERSION = 'v1';

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=?$/;
const BASE64URL_KEY = /^[A-Za-z0-9_-]{43}=?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Why a sealed value could not be opened. `authentication_failed` deliberately covers
 * tampering, a wrong master key and a wrong associated data alike: GCM cannot tell them
 * apart, and neither should an attacker probing us.
 */
export type EnvelopeErrorReason = 'malformed' | 'unsupported_version' | 'authentication_failed';

/**
 * Thrown by {@link openSecret}. The message never contains key material or plaintext.
 *
 * @example
 * try { openSecret(masterKey, sealed, aad); }
 * catch (error) { if (error instanceof EnvelopeError && error.reason === 'authentication_failed') … }
 */
export class EnvelopeError extends Error {
  readonly reason: EnvelopeErrorReason;

  constructor(reason: EnvelopeErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnvelopeError';
    this.reason = reason;
  }
}

/**
 * Decodes the master key from configuration: 32 bytes as 64 hex characters, base64 (44
 * characters, or 43 without padding) or base64url (43, or 44 with padding). Anything else
 * throws; the message names the accepted forms but never echoes the value, since it is a
 * secret that would otherwise land in startup logs.
 *
 * Base64 input must be canonical (re-encodes to itself): Node's decoder silently skips
 * stray characters and ignores the low bits of the last character, so a typo could
 * otherwise yield a different key than the operator thinks they configured. An all-zero
 * key is refused as an obvious placeholder.
 *
 * @example
 * const masterKey = parseMasterKey(process.env.DEALIX_MASTER_KEY ?? '');
 * // generate one with: node -e "console.log(require('node:crypto').randomBytes(32).toString('base64url'))"
 */
export function parseMasterKey(raw: string): Buffer {
  const value = raw.trim();
  let key: Buffer | undefined;
  if (HEX_KEY.test(value)) {
    key = Buffer.from(value, 'hex');
  } else if (BASE64_KEY.test(value) || BASE64URL_KEY.test(value)) {
    const isUrlSafe = /[-_]/.test(value);
    const decoded = Buffer.from(value, isUrlSafe ? 'base64url' : 'base64');
    const unpadded = value.replace(/=$/, '');
    const reencoded = decoded.toString(isUrlSafe ? 'base64url' : 'base64').replace(/=$/, '');
    // A 43-character value with neither '+/' nor '-_' is valid in both alphabets and decodes
    // identically in both, so the alphabet guess above cannot change the result.
    if (decoded.length === KEY_BYTES && reencoded === unpadded) key = decoded;
  }
  if (!key) {
    throw new Error(
      `The master key must be ${KEY_BYTES} bytes encoded as 64 hex characters or as base64/base64url ` +
        `(43 or 44 characters); got ${value.length} characters that are not such an encoding`,
    );
  }
  if (key.every((byte) => byte === 0)) throw new Error('The master key is all zeros; generate a random one');
  return key;
}

/**
 * Encrypts a secret with AES-256-GCM under the master key and a fresh random 12-byte IV.
 * Returns `v1.<iv>.<ciphertext>.<tag>` (each base64url, no padding).
 *
 * `associatedData` is authenticated but not stored: open must be given the same string, so
 * a sealed value copied into another row (another tenant, another key id) fails to open.
 * Build it from the row's identity, e.g. `tenant:<uuid>:kid:<kid>`. The version prefix is
 * bound into the AAD too, so a later format cannot be confused with this one.
 *
 * Random IVs are safe for this use: the GCM bound of 2^32 messages per key is far beyond the
 * number of secrets we will ever seal under one master key.
 *
 * @example
 * const sealed = sealSecret(masterKey, privateJwkJson, `tenant:${tenantId}:kid:${kid}`);
 * // 'v1.Xb3…' stored in the key row
 */
export function sealSecret(masterKey: Buffer, plaintext: Buffer | string, associatedData: string): string {
  assertMasterKey(masterKey);
  assertAssociatedData(associatedData);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(boundAad(VERSION, associatedData));
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join('.');
}

/**
 * Decrypts a value produced by {@link sealSecret}. Throws {@link EnvelopeError}:
 * `unsupported_version` for a prefix other than `v1`, `malformed` for a value that does not
 * parse, `authentication_failed` when any part was altered or the master key or associated
 * data differ from sealing time.
 *
 * @example
 * const privateJwk = JSON.parse(openSecret(masterKey, row.sealedPrivateJwk, `tenant:${tenantId}:kid:${row.kid}`).toString('utf8'));
 */
export function openSecret(masterKey: Buffer, sealed: string, associatedData: string): Buffer {
  assertMasterKey(masterKey);
  assertAssociatedData(associatedData);
  const parts = sealed.split('.');
  const version = parts[0];
  if (version !== VERSION) {
    // Only the prefix is judged here: echoing a whole malformed value could leak ciphertext into logs.
    throw new EnvelopeError(
      parts.length === 4 ? 'unsupported_version' : 'malformed',
      parts.length === 4 ? `Unsupported sealed secret version "${String(version).slice(0, 16)}"` : 'The sealed secret is malformed',
    );
  }
  if (parts.length !== 4) throw new EnvelopeError('malformed', 'The sealed secret is malformed');
  const iv = decodeBase64url(parts[1] ?? '');
  const ciphertext = decodeBase64url(parts[2] ?? '');
  const tag = decodeBase64url(parts[3] ?? '');
  if (!iv || !ciphertext || !tag || iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new EnvelopeError('malformed', 'The sealed secret is malformed');
  }
  const decipher = createDecipheriv('aes-256-gcm', masterKey, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(boundAad(version, associatedData));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (error) {
    throw new EnvelopeError(
      'authentication_failed',
      'The sealed secret cannot be opened: it was altered, or the master key or associated data differ',
      { cause: error },
    );
  }
}

function boundAad(version: string, associatedData: string): Buffer {
  return Buffer.from(`dealix-envelope:${version}:${associatedData}`, 'utf8');
}

function assertMasterKey(masterKey: Buffer): void {
  if (!Buffer.isBuffer(masterKey) || masterKey.length !== KEY_BYTES) {
    throw new Error(`The master key must be ${KEY_BYTES} bytes; use parseMasterKey`);
  }
}

function assertAssociatedData(associatedData: string): void {
  // An empty AAD would silently give up the row binding this module exists for.
  if (typeof associatedData !== 'string' || associatedData === '') {
    throw new Error('associatedData must be a non-empty string naming the row the secret belongs to');
  }
}

/** Strict decoding: Node's base64url decoder skips invalid characters instead of failing. */
function decodeBase64url(value: string): Buffer | undefined {
  if (!BASE64URL.test(value)) return undefined;
  const decoded = Buffer.from(value, 'base64url');
  return decoded.toString('base64url') === value ? decoded : undefined;
}
