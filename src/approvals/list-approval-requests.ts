import { and, desc, eq, inArray, lt, or, type SQL } from 'drizzle-orm';
import { approvalRequests, deals } from '../db/schema.ts';
import { scopeCondition, type DealScope } from '../deals/deals.store.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { ApprovalRequestRow } from './approvals.store.ts';

export interface ListApprovalRequestsOptions {
  tx: TenantTx;
  status?: string | undefined;
  afterId?: string | undefined;
  limit: number;
  /** Limits the list to requests the caller opened or whose deal they own. */
  own?: { requester: string; scope: DealScope } | undefined;
}

/**
 * Approval requests, newest first. `own` limits them to those the caller opened or whose deal
 * they own (a sales_rep never reads another rep's draft text or payloads).
 */
export async function listApprovalRequests(options: ListApprovalRequestsOptions): Promise<ApprovalRequestRow[]> {
  const conditions: (SQL | undefined)[] = [];
  if (options.own) {
    const { requester, scope } = options.own;
    conditions.push(
      or(
        eq(approvalRequests.requester, requester),
        inArray(approvalRequests.dealId, options.tx.select({ id: deals.id }).from(deals).where(scopeCondition(scope))),
      ),
    );
  }
  if (options.status) conditions.push(eq(approvalRequests.status, options.status));
  if (options.afterId) conditions.push(lt(approvalRequests.id, options.afterId));
  return options.tx.select().from(approvalRequests).where(and(...conditions)).orderBy(desc(approvalRequests.id)).limit(options.limit);
}
