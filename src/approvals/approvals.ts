import { and, desc, eq, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import { approvalRequests, deals, flowRuns, standingApprovals } from '../db/schema.ts';
import { scopeCondition, type DealScope } from '../deals/deals.store.ts';
import { signalFlow } from '../flows/flow-commands.ts';
import { DEFAULT_POLICY_VERSION, POLICY_SETS } from '../policy/policy-sets.ts';
import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { mintApprovalToken } from './approval-token.ts';
import { ZStandingConditions, type TStandingConditions } from './standing-approvals.ts';
import { activeSigningKey } from './tenant-keys.ts';

export type ApprovalRequestRow = typeof approvalRequests.$inferSelect;

/**
 * SLA state of a request: while pending, `pending` until the warning fraction of its
 * window has passed, then `warning`, then `breach` after the due time. Once decided, `met`
 * or `breach` by when it was decided.
 */
export type SlaState = 'pending' | 'warning' | 'breach' | 'met';

export function slaState(row: Pick<ApprovalRequestRow, 'status' | 'createdAt' | 'slaDueAt' | 'decidedAt'>, now: Date): SlaState {
  const due = row.slaDueAt.getTime();
  if (row.status !== 'pending') return row.decidedAt && row.decidedAt.getTime() > due ? 'breach' : 'met';
  if (now.getTime() > due) return 'breach';
  const warnAt = row.createdAt.getTime() + (due - row.createdAt.getTime()) * (POLICY_SETS[DEFAULT_POLICY_VERSION]?.approvalSla.warnAtFraction ?? 0.75);
  return now.getTime() >= warnAt ? 'warning' : 'pending';
}

/**
 * Approval requests, newest first. `own` limits them to those the caller opened or whose deal
 * they own (a sales_rep never reads another rep's draft text or payloads).
 */
export async function listApprovalRequests(options: {
  tx: TenantTx;
  status?: string | undefined;
  afterId?: string | undefined;
  limit: number;
  own?: { requester: string; scope: DealScope } | undefined;
}) {
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

async function pendingRequest(tx: TenantTx, id: string, approver: string): Promise<ApprovalRequestRow> {
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
async function signalWaiters(tx: TenantTx, requestId: string, payload: Record<string, unknown>): Promise<void> {
  const waiting = await tx
    .select({ id: flowRuns.id })
    .from(flowRuns)
    .where(and(eq(flowRuns.status, 'waiting'), eq(flowRuns.waitSignal, `approval:${requestId}`)));
  for (const run of waiting) await signalFlow({ tx, runId: run.id, name: `approval:${requestId}`, payload });
}

/**
 * Approves a pending request and issues its token: Ed25519-signed, bound to tenant, action,
 * the SHA-256 of the canonical payload and the approver, expiring after `ttlHours`.
 */
export async function approveRequest(options: {
  tx: TenantTx;
  tenantId: string;
  requestId: string;
  approver: string;
  masterKey: Buffer;
  ttlHours: number;
  now?: Date;
}): Promise<{ request: ApprovalRequestRow; token: string; tokenId: string; expiresAt: Date }> {
  const now = options.now ?? new Date();
  const request = await pendingRequest(options.tx, options.requestId, options.approver);
  const key = await activeSigningKey({ tx: options.tx, tenantId: options.tenantId, masterKey: options.masterKey });
  const expiresAt = new Date(now.getTime() + options.ttlHours * 3_600_000);
  const minted = await mintApprovalToken({
    privateJwk: key.privateJwk,
    kid: key.kid,
    tenantId: options.tenantId,
    action: request.action,
    payloadSha256: request.payloadSha256,
    approver: options.approver,
    approvalRequestId: request.id,
    expiresAt,
    now,
  });
  const [updated] = await options.tx
    .update(approvalRequests)
    .set({ status: 'approved', decidedBy: options.approver, decidedAt: now })
    .where(eq(approvalRequests.id, request.id))
    .returning();
  await signalWaiters(options.tx, request.id, { decision: 'approved', approver: options.approver, token_id: minted.tokenId, expires_at: expiresAt.toISOString() });
  return { request: updated as ApprovalRequestRow, token: minted.token, tokenId: minted.tokenId, expiresAt };
}

export async function rejectRequest(options: { tx: TenantTx; requestId: string; approver: string; reason: string; now?: Date }): Promise<ApprovalRequestRow> {
  const request = await pendingRequest(options.tx, options.requestId, options.approver);
  const [updated] = await options.tx
    .update(approvalRequests)
    .set({ status: 'rejected', decidedBy: options.approver, decidedAt: options.now ?? new Date(), decisionReason: options.reason })
    .where(eq(approvalRequests.id, request.id))
    .returning();
  await signalWaiters(options.tx, request.id, { decision: 'rejected', approver: options.approver, reason: options.reason });
  return updated as ApprovalRequestRow;
}

/**
 * Withdraws a pending request that was handled another way (its draft was approved or
 * rejected): it leaves the approvals queue without anyone approving or rejecting it, so the
 * same reply never waits in two queues. A request already decided is left as it is.
 */
export async function withdrawRequest(options: { tx: TenantTx; requestId: string; by: string; reason: string; now?: Date }): Promise<boolean> {
  const [updated] = await options.tx
    .update(approvalRequests)
    .set({ status: 'withdrawn', decidedBy: options.by, decidedAt: options.now ?? new Date(), decisionReason: options.reason })
    .where(and(eq(approvalRequests.id, options.requestId), eq(approvalRequests.status, 'pending')))
    .returning({ id: approvalRequests.id });
  if (updated) await signalWaiters(options.tx, updated.id, { decision: 'withdrawn', by: options.by, reason: options.reason });
  return updated !== undefined;
}

export type StandingApprovalRow = typeof standingApprovals.$inferSelect;

export async function grantStandingApproval(options: {
  tx: TenantTx;
  action: string;
  conditions: TStandingConditions;
  grantedBy: string;
  expiresAt: Date;
}): Promise<StandingApprovalRow> {
  const [row] = await options.tx
    .insert(standingApprovals)
    .values({ action: options.action, conditions: ZStandingConditions.parse(options.conditions), grantedBy: options.grantedBy, expiresAt: options.expiresAt })
    .returning();
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row;
}

/** Takes effect at once: the gate reads live standing approvals under a row lock. */
export async function revokeStandingApproval(options: { tx: TenantTx; id: string; revokedBy: string }): Promise<StandingApprovalRow> {
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

export async function listStandingApprovals(tx: TenantTx): Promise<StandingApprovalRow[]> {
  return tx.select().from(standingApprovals).orderBy(desc(standingApprovals.id)).limit(200);
}

