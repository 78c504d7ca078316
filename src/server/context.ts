import type { Logger } from 'pino';
import type { AuthContext } from '../auth/verify-token.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';

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
}

export interface AppEnv {
  Variables: AppVariables;
}
