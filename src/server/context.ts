import type { Logger } from 'pino';
import type { AuthContext } from '../auth/verify-token.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';

/** Per-request values (Hono `Variables`): never module globals. */
export interface AppVariables {
  correlationId: string;
  logger: Logger;
  auth: AuthContext;
  tx: TenantTx;
}

export interface AppEnv {
  Variables: AppVariables;
}
