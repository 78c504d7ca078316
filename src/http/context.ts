import type { Context, Next } from 'hono';
import type { Logger } from 'pino';

/**
 * An `Idempotency-Key` the global middleware accepted (src/idempotency). The permission guard
 * (src/auth) hands the request to `claimForCaller` once the caller passed it, so a replay
 * passes the same check as the original; the guard reaches the claim through this value
 * because src/idempotency builds on the auth and tenancy it reads.
 */
export interface PendingIdempotencyKey {
  key: string;
  ttlHours: number;
  claimed: boolean;
  claimForCaller(c: Context<AppEnv>, next: Next): Promise<Response | undefined>;
}

/**
 * Per-request values (Hono `Variables`): never module globals. The kernel units after this one
 * add theirs by declaration merging (`auth` in src/auth, `tx` in src/tenancy), so the HTTP layer
 * names neither.
 */
export interface AppVariables {
  correlationId: string;
  logger: Logger;
  /**
   * Set by a handler whose 4xx answer records something that must stay (a refused gateway
   * call leaves its decision row): the tenant transaction then commits despite the status.
   */
  keepOnRefusal: boolean;
  /** Set on a mutating request that carries an Idempotency-Key (see src/idempotency). */
  idempotency: PendingIdempotencyKey | undefined;
}

export interface AppEnv {
  Variables: AppVariables;
}
