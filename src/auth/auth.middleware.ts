import type { MiddlewareHandler } from 'hono';
import { AppError } from '../http/app-error.ts';
import type { AppEnv } from '../http/context.ts';
import { hasPermission, type Permission } from './roles.ts';
import type { AuthContext, TokenVerifier } from './verify-token.ts';

declare module '../http/context.ts' {
  interface AppVariables {
    /** The verified caller, set by {@link authenticate}. */
    auth: AuthContext;
  }
}

/** Requires a valid bearer token and puts the caller in `c.var.auth`. */
export function authenticate(verifier: TokenVerifier): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!match?.[1]) {
      throw new AppError('unauthenticated', header ? 'The Authorization header must be "Bearer <token>"' : 'An Authorization: Bearer token is required');
    }
    c.set('auth', await verifier.verify(match[1]));
    await next();
  };
}

/**
 * Answers 403 unless one of the caller's roles carries the permission (see PERMISSIONS).
 * Only then is an Idempotency-Key claimed or replayed, for this caller: a stored answer is
 * never handed to someone the route itself would refuse.
 */
export function requirePermission(permission: Permission): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!hasPermission(c.var.auth.roles, permission)) {
      throw new AppError('forbidden', `Your role(s) ${c.var.auth.roles.join(', ')} may not ${permission.replace(':', ' ')}`);
    }
    const pending = c.var.idempotency;
    if (pending) return pending.claimForCaller(c, next);
    await next();
    return undefined;
  };
}
