import { standingApprovals } from '../db/schema.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { StandingApprovalRow } from './approvals.store.ts';
import { ZStandingConditions, type TStandingConditions } from './standing-approvals.ts';

export interface GrantStandingApprovalOptions {
  tx: TenantTx;
  action: string;
  conditions: TStandingConditions;
  grantedBy: string;
  expiresAt: Date;
}

/** Grants a standing approval: calls of `action` that meet every condition need no one's approval until it expires. */
export async function grantStandingApproval(options: GrantStandingApprovalOptions): Promise<StandingApprovalRow> {
  const [row] = await options.tx
    .insert(standingApprovals)
    .values({ action: options.action, conditions: ZStandingConditions.parse(options.conditions), grantedBy: options.grantedBy, expiresAt: options.expiresAt })
    .returning();
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row;
}
