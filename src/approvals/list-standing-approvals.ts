import { desc } from 'drizzle-orm';
import { standingApprovals } from '../db/schema.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { StandingApprovalRow } from './approvals.store.ts';

export interface ListStandingApprovalsOptions {
  tx: TenantTx;
}

/** The tenant's standing approvals, newest first, revoked and expired ones included (the page shows them as such). */
export async function listStandingApprovals(options: ListStandingApprovalsOptions): Promise<StandingApprovalRow[]> {
  return options.tx.select().from(standingApprovals).orderBy(desc(standingApprovals.id)).limit(200);
}
