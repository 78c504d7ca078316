import { createHash, randomBytes, randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import { compactVerify, decodeProtectedHeader, errors as joseErrors, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { z } from 'zod';
import { AppError } from '../http/app-error.ts';

/**
 * Approval tokens are bearer proofs that a human (or a standing approval) allowed one
 * action on one exact payload for one tenant. This module signs and checks them and
 * nothing else: it does not spend them. Single use is enforced by the database (the
 * `jti` is recorded atomically when the action runs), because a pure function cannot see
 * whether a concurrent request already used the same token.
 */

/** Explicit JWT type (RFC 8725 §3.11), so no other JWT signed by a tenant key can pass as an approval. */
export const APPROVAL_TOKEN_TYPE = 'dealix-approval+jwt';

/** The only signature algorithm accepted: Ed25519 per RFC 8037. */
const ALGORITHM = 'EdDSA';

/**
 * The top-level payload key excluded from {@link payloadSha256}. The gateway injects the
 * request's correlation id into every action payload it forwards; that id differs between
 * the approval request and the execution, yet the business payload is the same.
 */
export const CORRELATION_ID_KEY = '_correlation_id';

/** Why a token was refused, with the detail sent to the caller. */
export const APPROVAL_TOKEN_ERROR_REASONS = {
  /** Not a compact JWS, or its header or claims are not the shape we mint. */
  malformed: 'The approval token is malformed',
  /** The signature does not verify under the tenant's key, or uses an algorithm other than EdDSA. */
  bad_signature: 'The approval token signature is invalid',
  /** `exp` has passed. */
  expired: 'The approval token has expired',
  /** Signed for another tenant. */
  wrong_tenant: 'The approval token was issued for another tenant',
  /** Approves a different action. */
  wrong_action: 'The approval token approves a different action',
  /** Approves a different payload: the hash of this request's payload does not match. */
  wrong_payload: 'The approval token approves a different payload',
  /** The JWS `typ` header is not {@link APPROVAL_TOKEN_TYPE}. */
  wrong_type: 'The token is not an approval token',
} as const;

export type ApprovalTokenErrorReason = keyof typeof APPROVAL_TOKEN_ERROR_REASONS;

/**
 * A refused approval token. It is an {@link AppError} (`forbidden`, with `reason` in the
 * problem's extra members) so an unmapped one still renders as a 403 rather than a 500.
 *
 * @example
 * try { await verifyApprovalToken({ token, publicJwk, tenantId, action, payloadSha256: hash }); }
 * catch (error) { if (error instanceof ApprovalTokenError && error.reason === 'expired') … }
 */
export class ApprovalTokenError extends AppError {
  readonly reason: ApprovalTokenErrorReason;

  constructor(reason: ApprovalTokenErrorReason, options: { cause?: unknown } = {}) {
    super('forbidden', APPROVAL_TOKEN_ERROR_REASONS[reason], { extra: { reason }, ...options });
    this.name = 'ApprovalTokenError';
    this.reason = reason;
  }
}

/**
 * Hex SHA-256 of the RFC 8785 (JCS) canonical JSON of an action payload: key order and
 * whitespace do not matter, every value does.
 *
 * A top-level `_correlation_id` is left out of the hash: the gateway injects the request's
 * correlation id into payloads, and an approval binds the business payload, not the trace
 * id (the approval and the execution are different requests). Only the top level is
 * special; a nested `_correlation_id` is ordinary data and is hashed.
 *
 * Throws a TypeError for values JSON cannot represent (undefined, functions, NaN,
 * Infinity, lone surrogates, cycles).
 *
 * @example
 * payloadSha256({ to: '+966500000000', template: 'intro', _correlation_id: 'c-1' })
 *   === payloadSha256({ template: 'intro', to: '+966500000000' }); // true
 */
export function payloadSha256(payload: unknown): string {
  let businessPayload = payload;
  if (isPlainRecord(payload) && Object.hasOwn(payload, CORRELATION_ID_KEY)) {
    const { [CORRELATION_ID_KEY]: _correlationId, ...rest } = payload;
    businessPayload = rest;
  }
  let canonical: string | undefined;
  try {
    canonical = canonicalize(businessPayload);
  } catch (error) {
    throw new TypeError(`The payload cannot be canonicalized: ${(error as Error).message}`, { cause: error });
  }
  if (canonical === undefined) throw new TypeError('The payload is not a JSON value');
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/** A tenant signing key: store `publicJwk` in the clear and `privateJwk` sealed (see crypto/envelope.ts). */
export interface SigningKey {
  kid: string;
  publicJwk: JWK;
  privateJwk: JWK;
}

/**
 * Generates an Ed25519 signing key pair with a random url-safe key id (16 random bytes,
 * base64url). Both JWKs carry `kid`, `alg: 'EdDSA'` and `use: 'sig'`.
 *
 * @example
 * const { kid, publicJwk, privateJwk } = await generateSigningKey();
 * const sealedPrivateJwk = sealSecret(masterKey, JSON.stringify(privateJwk), `tenant:${tenantId}:kid:${kid}`);
 */
export async function generateSigningKey(): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const kid = randomBytes(16).toString('base64url');
  const metadata = { kid, alg: ALGORITHM, use: 'sig' };
  return {
    kid,
    publicJwk: { ...(await exportJWK(publicKey)), ...metadata },
    privateJwk: { ...(await exportJWK(privateKey)), ...metadata },
  };
}

export interface MintApprovalTokenOptions {
  /** The tenant's Ed25519 private JWK (with `d`). */
  privateJwk: JWK;
  /** Key id put in the header so the verifier can find the public key. */
  kid: string;
  tenantId: string;
  action: string;
  /** {@link payloadSha256} of the approved payload. */
  payloadSha256: string;
  /** Who approved (user id, or a standing approval's owner). */
  approver: string;
  approvalRequestId?: string;
  standingApprovalId?: string;
  /** Rounded down to the whole second, so the token never outlives the approval. */
  expiresAt: Date;
  /** Defaults to a random UUID; pass one to record the token row before minting. */
  tokenId?: string;
  /** Issue time; defaults to the current time (tests pass a fixed one). */
  now?: Date;
}

/**
 * Signs an approval token: a compact JWS with header
 * `{ alg: 'EdDSA', kid, typ: 'dealix-approval+jwt' }` and claims `tid` (tenant), `act`
 * (action), `psh` (payload SHA-256), `apr` (approver), optional `arq` (approval request id)
 * and `sap` (standing approval id), `jti`, `iat` and `exp`.
 *
 * Throws a plain Error for invalid options (a bug in the caller, not a client error).
 *
 * @example
 * const { token, tokenId } = await mintApprovalToken({
 *   privateJwk, kid, tenantId, action: 'whatsapp.send', payloadSha256: payloadSha256(payload),
 *   approver: userId, approvalRequestId, expiresAt: new Date(Date.now() + 15 * 60_000),
 * });
 */
export async function mintApprovalToken(options: MintApprovalTokenOptions): Promise<{ token: string; tokenId: string }> {
  const { privateJwk, kid } = options;
  if (privateJwk.kty !== 'OKP' || privateJwk.crv !== 'Ed25519' || typeof privateJwk.d !== 'string') {
    throw new Error('mintApprovalToken needs an Ed25519 private JWK (kty OKP, crv Ed25519, with d)');
  }
  // A kid that names another key would make every token fail verification later, far from the cause.
  if (privateJwk.kid !== undefined && privateJwk.kid !== kid) throw new Error('The kid does not match the private JWK');
  requireNonEmpty({ kid, tenantId: options.tenantId, action: options.action, approver: options.approver });
  if (!SHA256_HEX.test(options.payloadSha256)) throw new Error('payloadSha256 must be 64 hex characters');
  const now = options.now ?? new Date();
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = Math.floor(options.expiresAt.getTime() / 1000);
  if (!Number.isFinite(issuedAt) || !Number.isFinite(expiresAt)) throw new Error('now and expiresAt must be valid dates');
  if (expiresAt <= issuedAt) throw new Error('expiresAt must be at least one second after now');
  const tokenId = options.tokenId ?? randomUUID();
  requireNonEmpty({ tokenId });

  const claims: Record<string, string> = {
    tid: options.tenantId,
    act: options.action,
    psh: options.payloadSha256.toLowerCase(),
    apr: options.approver,
  };
  if (options.approvalRequestId !== undefined) claims.arq = options.approvalRequestId;
  if (options.standingApprovalId !== undefined) claims.sap = options.standingApprovalId;
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: ALGORITHM, kid, typ: APPROVAL_TOKEN_TYPE })
    .setJti(tokenId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(privateJwk);
  return { token, tokenId };
}

/**
 * The `kid` from the token's protected header, read WITHOUT verifying anything, only to
 * look up which tenant key to verify with. Undefined for anything that is not a compact
 * JWS with a string kid.
 *
 * @example
 * const kid = readTokenKid(token);
 * const key = kid === undefined ? undefined : await keys.findPublicKey(tx, tenantId, kid);
 */
export function readTokenKid(token: string): string | undefined {
  if (typeof token !== 'string' || token.split('.').length !== 3) return undefined;
  try {
    const { kid } = decodeProtectedHeader(token);
    // Bounded because the value goes into a database lookup and logs before anything is verified.
    return typeof kid === 'string' && kid.length > 0 && kid.length <= 256 ? kid : undefined;
  } catch {
    return undefined;
  }
}

/** What a verified approval token grants. */
export interface TVerifiedApproval {
  tokenId: string;
  approver: string;
  approvalRequestId?: string;
  standingApprovalId?: string;
  expiresAt: Date;
}

export interface VerifyApprovalTokenOptions {
  token: string;
  /** The tenant's Ed25519 public JWK, found through {@link readTokenKid}. */
  publicJwk: JWK;
  /** The tenant of the request presenting the token. */
  tenantId: string;
  /** The action about to run. */
  action: string;
  /** {@link payloadSha256} of the payload about to run. */
  payloadSha256: string;
  now?: Date;
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const BASE64URL_SEGMENT = /^[A-Za-z0-9_-]+$/;

const ZApprovalClaims = z.object({
  tid: z.string().min(1),
  act: z.string().min(1),
  psh: z.string().regex(/^[0-9a-f]{64}$/),
  apr: z.string().min(1),
  arq: z.string().min(1).optional(),
  sap: z.string().min(1).optional(),
  jti: z.string().min(1),
  iat: z.number().int(),
  exp: z.number().int(),
});

/**
 * Checks an approval token, in this order: EdDSA signature under `publicJwk` (no other
 * algorithm, so `alg: none` and HS256 are refused), the `typ` header, then tenant, action,
 * payload hash and expiry (no clock tolerance: `exp` is the approval's own deadline). Any
 * failure throws {@link ApprovalTokenError} with its reason.
 *
 * Does NOT spend the token: the caller must record `tokenId` as used, atomically with the
 * action, in the database.
 *
 * Throws a plain Error when `publicJwk` is not an Ed25519 key: that is our data, not the
 * caller's token, that is wrong.
 *
 * @example
 * const approval = await verifyApprovalToken({
 *   token, publicJwk, tenantId, action: 'whatsapp.send', payloadSha256: payloadSha256(payload),
 * });
 * await spendApprovalToken(tx, tenantId, approval.tokenId); // fails if already used
 */
export async function verifyApprovalToken(options: VerifyApprovalTokenOptions): Promise<TVerifiedApproval> {
  const { publicJwk } = options;
  if (publicJwk.kty !== 'OKP' || publicJwk.crv !== 'Ed25519' || typeof publicJwk.x !== 'string') {
    throw new Error('verifyApprovalToken needs an Ed25519 public JWK (kty OKP, crv Ed25519)');
  }
  if (typeof options.token !== 'string' || !isCanonicalCompactJws(options.token)) throw new ApprovalTokenError('malformed');

  let verified;
  try {
    // Only the public members: a stored JWK's `alg`, `use` or `key_ops` must not widen or
    // change what jose accepts, and a private JWK passed by mistake still verifies.
    verified = await compactVerify(options.token, { kty: 'OKP', crv: 'Ed25519', x: publicJwk.x }, { algorithms: [ALGORITHM] });
  } catch (error) {
    if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JOSEAlgNotAllowed) {
      throw new ApprovalTokenError('bad_signature', { cause: error });
    }
    if (error instanceof joseErrors.JOSEError) throw new ApprovalTokenError('malformed', { cause: error });
    throw error;
  }

  const { protectedHeader, payload } = verified;
  if (typeof protectedHeader.typ !== 'string' || normalizeTyp(protectedHeader.typ) !== APPROVAL_TOKEN_TYPE) {
    throw new ApprovalTokenError('wrong_type');
  }
  let claimsJson: unknown;
  try {
    claimsJson = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (error) {
    throw new ApprovalTokenError('malformed', { cause: error });
  }
  const claims = ZApprovalClaims.safeParse(claimsJson);
  if (!claims.success) throw new ApprovalTokenError('malformed', { cause: claims.error });
  const { tid, act, psh, apr, arq, sap, jti, exp } = claims.data;

  if (tid !== options.tenantId) throw new ApprovalTokenError('wrong_tenant');
  if (act !== options.action) throw new ApprovalTokenError('wrong_action');
  if (psh !== options.payloadSha256.toLowerCase()) throw new ApprovalTokenError('wrong_payload');
  const nowMs = (options.now ?? new Date()).getTime();
  if (!(nowMs < exp * 1000)) throw new ApprovalTokenError('expired');

  return {
    tokenId: jti,
    approver: apr,
    ...(arq === undefined ? {} : { approvalRequestId: arq }),
    ...(sap === undefined ? {} : { standingApprovalId: sap }),
    expiresAt: new Date(exp * 1000),
  };
}

/**
 * Three non-empty segments, each canonical base64url. jose (like most decoders) ignores the
 * spare low bits of a segment's last character, so without this check several distinct
 * strings carry the same signed token; anything keyed on the token string (logs, caches,
 * a hash of a presented token) would then see them as different tokens.
 */
function isCanonicalCompactJws(token: string): boolean {
  const segments = token.split('.');
  return (
    segments.length === 3 &&
    segments.every((segment) => BASE64URL_SEGMENT.test(segment) && Buffer.from(segment, 'base64url').toString('base64url') === segment)
  );
}

/** RFC 7515 §4.1.9: `typ` is case-insensitive and may omit the `application/` prefix. */
function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function requireNonEmpty(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'string' || value === '') throw new Error(`${name} must be a non-empty string`);
  }
}
