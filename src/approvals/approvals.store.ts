import { and, eq } from 'drizzle-orm';
import { approvalRequests, flowRuns, standingApprovals } from '../db/schema.ts';
import { signalFlow } from '../flows/flow-commands.ts';
import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';

export type ApprovalRequestRow = typeof approvalRequests.$inferSelect;
export type StandingApprovalRow = typeof standingApprovals.$inferSelect;

/** The request, locked for its decision: it must exist, still be pending and not be the approver's own. */
export async function lockPendingRequest(tx: TenantTx, id: string, approver: string): Promise<ApprovalRequestRow> {
  const [row] = await tx.select().from(approvalRequests).where(eq(approvalRequests.id, id)).for('update');
  if (!row) throw new AppError('not_found', `Approval request ${id} does not exist`);
  if (row.status !== 'pending') throw new AppError('conflict', `Approval request ${id} is already ${row.status}`);
  if (row.requester === approver) throw new AppError('forbidden', 'You cannot decide your own approval request');
  return row;
}

/**
 * Wakes flow runs waiting on this request's decision (signal `approval:<id>`). The payload never
 * holds the approval token: a signal is stored (flow_signals), copied into the run's state and
 * checkpoints and served by GET /flows/{id}, so a bearer secret there would outlive its one use
 * in a dozen readable places. A waiting run gets the token's id (`token_id`, the `jti` the
 * decision log records); the token itself goes only to the approver who asked for it.
 */
export async function signalDecisionWaiters(tx: TenantTx, requestId: string, payload: Record<string, unknown>): Promise<void> {
  const waiting = await tx
    .select({ id: flowRuns.id })
    .from(flowRuns)
    .where(and(eq(flowRuns.status, 'waiting'), eq(flowRuns.waitSignal, `approval:${requestId}`)));
  for (const run of waiting) await signalFlow({ tx, runId: run.id, name: `approval:${requestId}`, payload });
}
