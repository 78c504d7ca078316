import type { Logger } from 'pino';
import type { AuthContext } from '../auth/verify-token.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';

/** An `Idempotency-Key` the global middleware accepted; the permission guard claims it for its caller. */
export interface PendingIdempotencyKey {
  key: string;
  ttlHours: number;
  claimed: boolean;
}

/** Per-request values (Hono `Variables`): never module globals. */
export interface AppVariables {
  correlationId: string;
  logger: Logger;
  auth: AuthContext;
  tx: TenantTx;
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
