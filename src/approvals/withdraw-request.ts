import { and, eq } from 'drizzle-orm';
import { approvalRequests } from '../db/schema.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { signalDecisionWaiters } from './approvals.store.ts';

export interface WithdrawRequestOptions {
  tx: TenantTx;
  requestId: string;
  by: string;
  reason: string;
  now?: Date;
}

/**
 * Withdraws a pending request that was handled another way (its draft was approved or
 * rejected): it leaves the approvals queue without anyone approving or rejecting it, so the
 * same reply never waits in two queues. A request already decided is left as it is.
 */
export async function withdrawRequest(options: WithdrawRequestOptions): Promise<boolean> {
  const [updated] = await options.tx
    .update(approvalRequests)
    .set({ status: 'withdrawn', decidedBy: options.by, decidedAt: options.now ?? new Date(), decisionReason: options.reason })
    .where(and(eq(approvalRequests.id, options.requestId), eq(approvalRequests.status, 'pending')))
    .returning({ id: approvalRequests.id });
  if (updated) await signalDecisionWaiters(options.tx, updated.id, { decision: 'withdrawn', by: options.by, reason: options.reason });
  return updated !== undefined;
}
