import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { z } from 'zod';
import type { JwtConfig } from '../config/config.ts';
import { AppError } from '../http/app-error.ts';
import { ROLE_VALUES, type Role } from './roles.ts';

/** Who is calling: everything a request knows about its caller comes from the token. */
export interface AuthContext {
  tenantId: string;
  sub: string;
  roles: Role[];
}

export interface TokenVerifier {
  /** Resolves the caller, or throws AppError('unauthenticated'). */
  verify(token: string): Promise<AuthContext>;
}

const roleSet = new Set<string>(ROLE_VALUES);

const ZClaims = z.object({
  tenant_id: z.uuid({ message: 'tenant_id must be a UUID' }),
  sub: z.string().min(1),
  // OIDC providers may put roles we do not know next to ours; keep ours, ignore the rest.
  roles: z
    .union([z.string(), z.array(z.string())])
    .transform((value) => (Array.isArray(value) ? value : [value]).filter((role): role is Role => roleSet.has(role)))
    .refine((roles) => roles.length > 0, 'no known role'),
});

const HS_ALGORITHMS = ['HS256'];
const ASYMMETRIC_ALGORITHMS = ['RS256', 'EdDSA', 'ES256'];

/**
 * Verifies bearer JWTs: HS256 with the shared secret, or RS256/EdDSA/ES256 keys from a JWKS.
 * `alg: none`, other algorithms, bad signatures, expired or not-yet-valid tokens and tokens
 * without `exp`, `tenant_id`, `sub` or a known role are all refused as unauthenticated.
 *
 * Verified tokens are cached until shortly before they expire (bounded LRU), because the
 * same token arrives on every request of a session.
 */
export function createTokenVerifier(config: JwtConfig, hsSecret: string | undefined): TokenVerifier {
  const options: JWTVerifyOptions = {
    algorithms: config.mode === 'hs256' ? HS_ALGORITHMS : ASYMMETRIC_ALGORITHMS,
    requiredClaims: ['exp', 'sub'],
    clockTolerance: 5,
    ...(config.issuer ? { issuer: config.issuer } : {}),
    ...(config.audience ? { audience: config.audience } : {}),
  };
  let key: Uint8Array | JWTVerifyGetKey;
  if (config.mode === 'hs256') {
    if (!hsSecret) throw new Error('HS256 verification needs a secret');
    key = new TextEncoder().encode(hsSecret);
  } else {
    key = createRemoteJWKSet(new URL(config.jwksUrl), { cooldownDuration: 30_000, timeoutDuration: 5_000 });
  }
  const cache = new Map<string, { auth: AuthContext; expiresAtMs: number }>();
  const CACHE_LIMIT = 10_000;

  return {
    async verify(token) {
      const cached = cache.get(token);
      if (cached) {
        if (cached.expiresAtMs > Date.now()) return cached.auth;
        cache.delete(token);
      }
      let payload;
      try {
        ({ payload } = await (typeof key === 'function' ? jwtVerify(token, key, options) : jwtVerify(token, key, options)));
      } catch (error) {
        throw new AppError('unauthenticated', describeJoseError(error), { cause: error });
      }
      const claims = ZClaims.safeParse(payload);
      if (!claims.success) {
        throw new AppError('unauthenticated', `The token's claims are invalid: ${claims.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
      }
      const auth: AuthContext = { tenantId: claims.data.tenant_id.toLowerCase(), sub: claims.data.sub, roles: claims.data.roles };
      if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
      cache.set(token, { auth, expiresAtMs: (payload.exp ?? 0) * 1000 });
      return auth;
    },
  };
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The token has expired';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'The token is signed with an algorithm that is not accepted';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'The token signature is invalid';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `The token's ${error.claim} claim is invalid`;
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'No key in the JWKS matches the token';
  if (error instanceof joseErrors.JWKSTimeout) return 'The identity provider did not answer in time';
  return 'The token is malformed or cannot be verified';
}
