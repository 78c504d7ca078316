import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Role } from './roles.ts';

export interface IssueTokenOptions {
  secret: string;
  tenantId: string;
  sub: string;
  roles: Role[];
  ttlHours: number;
  issuer?: string;
  audience?: string;
}

/**
 * Signs an HS256 access token with the claims the API reads. Used by the CLI (platform
 * operator) and tests; production logins come from an OIDC provider through a JWKS.
 *
 * @example
 * const token = await issueToken({ secret, tenantId, sub: userId, roles: ['admin'], ttlHours: 12 });
 */
export async function issueToken(options: IssueTokenOptions): Promise<string> {
  let jwt = new SignJWT({ tenant_id: options.tenantId, roles: options.roles })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${options.ttlHours}h`);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
