import { eq } from 'drizzle-orm';
import { approvalRequests } from '../db/schema.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { lockPendingRequest, signalDecisionWaiters, type ApprovalRequestRow } from './approvals.store.ts';

export interface RejectRequestOptions {
  tx: TenantTx;
  requestId: string;
  approver: string;
  reason: string;
  now?: Date;
}

/** Rejects a pending request with the approver's reason; runs waiting on it are told why. */
export async function rejectRequest(options: RejectRequestOptions): Promise<ApprovalRequestRow> {
  const request = await lockPendingRequest(options.tx, options.requestId, options.approver);
  const [updated] = await options.tx
    .update(approvalRequests)
    .set({ status: 'rejected', decidedBy: options.approver, decidedAt: options.now ?? new Date(), decisionReason: options.reason })
    .where(eq(approvalRequests.id, request.id))
    .returning();
  if (!updated) throw new Error('UPDATE … RETURNING gave no row for a locked request');
  await signalDecisionWaiters(options.tx, request.id, { decision: 'rejected', approver: options.approver, reason: options.reason });
  return updated;
}
