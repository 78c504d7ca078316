import { and, eq, sql } from 'drizzle-orm';
import { standingApprovals } from '../db/schema.ts';
import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { StandingApprovalRow } from './approvals.store.ts';

export interface RevokeStandingApprovalOptions {
  tx: TenantTx;
  id: string;
  revokedBy: string;
}

/** Takes effect at once: the gate reads live standing approvals under a row lock. */
export async function revokeStandingApproval(options: RevokeStandingApprovalOptions): Promise<StandingApprovalRow> {
  const [row] = await options.tx
    .update(standingApprovals)
    .set({ revokedAt: sql`now()`, revokedBy: options.revokedBy })
    .where(and(eq(standingApprovals.id, options.id), sql`${standingApprovals.revokedAt} IS NULL`))
    .returning();
  if (!row) {
    const [existing] = await options.tx.select().from(standingApprovals).where(eq(standingApprovals.id, options.id));
    if (!existing) throw new AppError('not_found', `Standing approval ${options.id} does not exist`);
    throw new AppError('conflict', `Standing approval ${options.id} is already revoked`);
  }
  return row;
}
