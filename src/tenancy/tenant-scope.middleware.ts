import type { MiddlewareHandler } from 'hono';
import type pg from 'pg';
import { AppError } from '../http/app-error.ts';
import type { AppEnv } from '../http/context.ts';
import { TenantNotFoundError, withTenant, type TenantTx } from './with-tenant.ts';

declare module '../http/context.ts' {
  interface AppVariables {
    /** The request's tenant transaction, opened by {@link tenantScope}. */
    tx: TenantTx;
  }
}

/** Thrown inside the transaction to roll it back while keeping the response already made. */
class RollbackForResponse extends Error {}

/**
 * Runs the rest of the request in one transaction scoped to the caller's tenant. The
 * transaction commits only when the response is a success: a handler that failed, or that
 * answered 4xx/5xx, leaves nothing half-written. Safe methods run READ ONLY.
 *
 * The tenant named by the token must exist: it is read through RLS, so this also proves
 * the scope was set.
 */
export function tenantScope(pool: pg.Pool, lockTimeoutMs: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const readOnly = c.req.method === 'GET' || c.req.method === 'HEAD';
    try {
      await withTenant({ pool, tenantId: c.var.auth.tenantId, readOnly, lockTimeoutMs, requireTenant: true }, async (tx) => {
        c.set('tx', tx);
        await next();
        if (c.error || c.res.status >= 500 || (c.res.status >= 400 && !c.get('keepOnRefusal'))) throw new RollbackForResponse();
      });
    } catch (error) {
      if (error instanceof TenantNotFoundError) throw new AppError('unauthenticated', "The token's tenant does not exist");
      if (!(error instanceof RollbackForResponse)) throw error;
    }
  };
}
