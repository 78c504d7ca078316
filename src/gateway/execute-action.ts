import { eq, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { ApprovalTokenError, CORRELATION_ID_KEY, mintApprovalToken, payloadSha256, readTokenKid, verifyApprovalToken } from '../approvals/approval-token.ts';
import { findFittingStandingApproval } from '../approvals/find-fitting-standing-approval.ts';
import { activeSigningKey, findPublicKey } from '../approvals/signing-keys.store.ts';
import { approvalRequests, approvalTokenUses, deals, decisions, policyOverrides } from '../db/schema.ts';
import { uuidv7 } from '../db/uuid-v7.ts';
import { requirePayloadInScope, toRunDealScope } from '../deals/deal-scope.ts';
import type { DealScope } from '../deals/deals.store.ts';
import { startFlow } from '../flows/flow-commands.ts';
import { classifyAction, DEFAULT_POLICY_VERSION, POLICY_SETS, type PolicyClass } from '../policy/policy-sets.ts';
import { AppError, type FieldError } from '../http/app-error.ts';
import { newCorrelationId, tracer } from '../http/telemetry.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { resolveCanaryVersion } from './canary.ts';
import type { TaskRouter } from './task-router.ts';

export interface ExecuteRequest {
  actor: string;
  action: string;
  payload: Record<string, unknown>;
  correlationId?: string | undefined;
  idempotencyKey?: string | undefined;
  approvalToken?: string | undefined;
  /** The caller's deal scope (dealScopeFor): a deal or contact outside it answers 404. Absent: the whole tenant. */
  dealScope?: DealScope | undefined;
}

/**
 * What the gateway decided:
 * - `accepted`: a durable flow run was started (or, for a repeated idempotency key, found);
 * - `requires_approval`: class B without a valid approval; an approval request is open;
 * - `forbidden`: class C, never allowed;
 * - `blocked`: an approval token was offered and refused;
 * - `failed`: the call cannot run (no correlation id on class B, unknown task, bad payload).
 */
export type DecisionResult = 'accepted' | 'requires_approval' | 'forbidden' | 'blocked' | 'failed';

export interface ExecuteOutcome {
  decisionId: string;
  correlationId: string;
  result: DecisionResult;
  reason: string;
  action: string;
  policyClass: PolicyClass;
  matchedRule: string;
  policyVersion: string;
  canaryVersion: string | null;
  payloadSha256: string;
  approvalRequestId: string | null;
  standingApprovalId: string | null;
  flowRunId: string | null;
  errors?: FieldError[];
}

/**
 * The problem a refused call answers with: class C → 403 action_forbidden, a refused token →
 * 403 approval_refused, anything else (unknown action, bad payload) → 422 action_not_executable.
 */
export function refusalError(outcome: ExecuteOutcome, extra: Record<string, unknown>): AppError {
  const code = outcome.result === 'forbidden' ? 'action_forbidden' : outcome.result === 'blocked' ? 'approval_refused' : 'action_not_executable';
  return new AppError(code, outcome.reason, { ...(outcome.errors ? { errors: outcome.errors } : {}), extra });
}

export interface ExecuteDeps {
  router: TaskRouter;
  masterKey: Buffer;
  logger: Logger;
  now?: () => Date;
}

export interface ExecuteActionOptions {
  tx: TenantTx;
  tenantId: string;
  request: ExecuteRequest;
  deps: ExecuteDeps;
}

/**
 * The one gateway every action passes (SPEC §2), in order: correlation id → policy gate →
 * task router (the plugin must exist and accept the payload) → the caller's deal scope →
 * approval check → canary context → span → durable flow. Runs in the caller's tenant
 * transaction; every call leaves exactly one decision row, in the same transaction as the
 * run it started, so there is never a run without its decision or the reverse. The one
 * exception is a deal outside the caller's scope: 404 (AppError), nothing written, exactly
 * as for a deal that does not exist.
 *
 * A valid approval token is spent only when the run starts: a call refused for any other
 * reason (unknown task, bad payload) leaves the token usable.
 *
 * @example
 * const outcome = await executeAction({ tx, tenantId, request: { actor, action: 'tag', payload }, deps });
 */
export async function executeAction(options: ExecuteActionOptions): Promise<ExecuteOutcome> {
  const { tx, tenantId, request, deps } = options;
  const now = deps.now?.() ?? new Date();
  const correlationId = request.correlationId ?? newCorrelationId();
  const payload = { ...request.payload, [CORRELATION_ID_KEY]: correlationId };
  const sha = payloadSha256(payload);

  // Policy gate, under the policy version this tenant's canary context says.
  const policyCanary = await resolveCanaryVersion(tx, tenantId, 'policy');
  const policySet = POLICY_SETS[policyCanary ?? DEFAULT_POLICY_VERSION] ?? (POLICY_SETS[DEFAULT_POLICY_VERSION] as (typeof POLICY_SETS)[string]);
  const [override] = await tx.select({ policyClass: policyOverrides.policyClass }).from(policyOverrides).where(eq(policyOverrides.action, request.action));
  const classified = classifyAction(request.action, policySet, override?.policyClass as PolicyClass | undefined);

  const decisionId = uuidv7();
  const dealId = await existingPayloadDealId(tx, request.payload);
  const decide = async (
    result: DecisionResult,
    reason: string,
    extra: Partial<Pick<ExecuteOutcome, 'approvalRequestId' | 'standingApprovalId' | 'flowRunId' | 'canaryVersion' | 'errors'>> & { tokenId?: string } = {},
  ): Promise<ExecuteOutcome> => {
    const outcome: ExecuteOutcome = {
      decisionId,
      correlationId,
      result,
      reason,
      action: request.action,
      policyClass: classified.policyClass,
      matchedRule: classified.matchedRule,
      policyVersion: classified.policyVersion,
      canaryVersion: extra.canaryVersion ?? (policyCanary ? `policy:${policyCanary}` : null),
      payloadSha256: sha,
      approvalRequestId: extra.approvalRequestId ?? null,
      standingApprovalId: extra.standingApprovalId ?? null,
      flowRunId: extra.flowRunId ?? null,
      ...(extra.errors ? { errors: extra.errors } : {}),
    };
    await tx.insert(decisions).values({
      id: decisionId,
      correlationId,
      actor: request.actor,
      action: request.action,
      policyClass: outcome.policyClass,
      matchedRule: outcome.matchedRule,
      policyVersion: outcome.policyVersion,
      payloadSha256: sha,
      result,
      reason,
      approvalRequestId: outcome.approvalRequestId,
      standingApprovalId: outcome.standingApprovalId,
      approvalTokenId: extra.tokenId ?? null,
      canaryVersion: outcome.canaryVersion,
      flowRunId: outcome.flowRunId,
      dealId,
    });
    const log = { decision_id: decisionId, correlation_id: correlationId, action: request.action, class: outcome.policyClass, result, reason };
    if (result === 'failed') deps.logger.error(log, 'gateway call failed');
    else if (result === 'accepted') deps.logger.info(log, 'gateway decision');
    else deps.logger.warn(log, 'gateway decision');
    return outcome;
  };

  if (classified.policyClass === 'C') return decide('forbidden', `${request.action} is class C: forbidden always (${classified.matchedRule})`);
  if (classified.policyClass === 'B' && !request.correlationId) {
    return decide('failed', 'class B actions need a correlation id from the caller, so the approval and its effects can be traced');
  }

  // The call must be executable before anything else happens: an unknown action or a bad
  // payload opens no approval request (none could ever run), and spends no token.
  const plugin = deps.router.get(request.action);
  if (!plugin) return decide('failed', `unknown task type: no plugin handles ${request.action}`);
  const parsed = plugin.payload.safeParse(request.payload);
  if (!parsed.success) {
    return decide('failed', `invalid payload for ${request.action}`, {
      errors: parsed.error.issues.map((issue) => ({ field: `payload.${issue.path.join('.')}`, message: issue.message })),
    });
  }
  // A deal (or a contact's deals) outside the caller's scope is answered as if it did not
  // exist, before any decision, request or run is written.
  const dealScope = request.dealScope ?? {};
  await requirePayloadInScope(tx, parsed.data, dealScope);

  // A repeated call with the same idempotency key gets the run it started the first time,
  // without spending another approval. The key is the caller's: another actor's same key is
  // another call.
  const idempotencyKey = request.idempotencyKey ? `gateway:${request.actor}:${request.action}:${request.idempotencyKey}` : null;
  if (idempotencyKey) {
    const existing = await tx.execute<{ id: string }>(sql`SELECT id FROM flow_runs WHERE idempotency_key = ${idempotencyKey}`);
    const runId = existing.rows[0]?.id;
    if (runId) return decide('accepted', 'an earlier call with this idempotency key already started the run', { flowRunId: runId });
  }

  // Approval check (class B): an offered token, else a standing approval, else a request.
  let approval: { tokenId: string; standingApprovalId: string | null; approvalRequestId: string | null } | undefined;
  if (classified.policyClass === 'B') {
    if (request.approvalToken) {
      const kid = readTokenKid(request.approvalToken);
      const publicJwk = kid ? await findPublicKey(tx, kid) : undefined;
      if (!publicJwk) return decide('blocked', 'approval token refused: not signed by a key of this tenant');
      try {
        const verified = await verifyApprovalToken({ token: request.approvalToken, publicJwk, tenantId, action: request.action, payloadSha256: sha, now });
        approval = { tokenId: verified.tokenId, standingApprovalId: verified.standingApprovalId ?? null, approvalRequestId: verified.approvalRequestId ?? null };
      } catch (error) {
        if (error instanceof ApprovalTokenError) return decide('blocked', `approval token refused: ${error.reason}`);
        throw error;
      }
      const [spent] = await tx.select({ tokenId: approvalTokenUses.tokenId }).from(approvalTokenUses).where(eq(approvalTokenUses.tokenId, approval.tokenId));
      if (spent) return decide('blocked', 'approval token refused: already used', { approvalRequestId: approval.approvalRequestId });
    } else {
      const { fit, misses } = await findFittingStandingApproval({ tx, action: request.action, payload, now });
      if (fit) {
        const key = await activeSigningKey({ tx, tenantId, masterKey: deps.masterKey });
        const minted = await mintApprovalToken({
          privateJwk: key.privateJwk,
          kid: key.kid,
          tenantId,
          action: request.action,
          payloadSha256: sha,
          approver: `standing:${fit.id}`,
          standingApprovalId: fit.id,
          expiresAt: new Date(now.getTime() + 60_000),
          now,
        });
        approval = { tokenId: minted.tokenId, standingApprovalId: fit.id, approvalRequestId: null };
      } else {
        const requestId = await openApprovalRequest(tx, {
          action: request.action,
          payload,
          sha,
          requester: request.actor,
          dealId,
          correlationId,
          now,
          slaHours: policySet.approvalSla.hours,
        });
        return decide('requires_approval', misses.length ? `needs approval; no standing approval fits (${misses.join('; ')})` : 'needs approval', {
          approvalRequestId: requestId,
        });
      }
    }
  }

  // Canary context for the flow, then the task router.
  const flowCanary = await resolveCanaryVersion(tx, tenantId, `flow:${request.action}`);
  const canaryVersion = [policyCanary && `policy:${policyCanary}`, flowCanary && `flow:${flowCanary}`].filter(Boolean).join(',') || null;
  return tracer.startActiveSpan(`gateway ${request.action}`, async (span) => {
    span.setAttributes({ 'dealix.action': request.action, 'dealix.policy_class': classified.policyClass, 'dealix.decision_id': decisionId });
    try {
      const flow = deps.router.flowFor(plugin, flowCanary);
      if (approval) {
        // Spent here, in the same transaction as the run: two concurrent uses serialise on
        // the primary key and the second finds it taken.
        const spent = await tx
          .insert(approvalTokenUses)
          .values({ tokenId: approval.tokenId, decisionId, standingApprovalId: approval.standingApprovalId })
          .onConflictDoNothing()
          .returning({ tokenId: approvalTokenUses.tokenId });
        if (spent.length === 0) return await decide('blocked', 'approval token refused: already used', { canaryVersion, ...approvalRefs(approval) });
      }
      const { run } = await startFlow({
        tx,
        flow,
        input: {
          action: request.action,
          actor: request.actor,
          payload: { ...parsed.data, [CORRELATION_ID_KEY]: correlationId },
          decision_id: decisionId,
          // The plugin re-checks its deal against the scope of the caller who started it.
          deal_scope: toRunDealScope(dealScope),
        },
        correlationId,
        idempotencyKey,
        canaryVersion: flowCanary ?? null,
        dealId,
      });
      span.setAttribute('dealix.flow_run_id', run.id);
      return await decide(
        'accepted',
        approval?.standingApprovalId ? `approved by standing approval ${approval.standingApprovalId}` : approval ? 'approved by token' : `class ${classified.policyClass}: runs automatically`,
        { canaryVersion, flowRunId: run.id, ...approvalRefs(approval) },
      );
    } finally {
      span.end();
    }
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The deal an action's payload names (`deal_id`), recorded on its decision and run so the deal
 * timeline finds both by column. The payload is the caller's: a value that is not a UUID, or
 * names no deal of this tenant (RLS), records none rather than failing the call on the FK.
 */
async function existingPayloadDealId(tx: TenantTx, payload: Record<string, unknown>): Promise<string | null> {
  const candidate = payload.deal_id;
  if (typeof candidate !== 'string' || !UUID.test(candidate)) return null;
  const [deal] = await tx.select({ id: deals.id }).from(deals).where(eq(deals.id, candidate.toLowerCase()));
  return deal?.id ?? null;
}

function approvalRefs(approval: { tokenId: string; standingApprovalId: string | null; approvalRequestId: string | null } | undefined) {
  return approval ? { tokenId: approval.tokenId, standingApprovalId: approval.standingApprovalId, approvalRequestId: approval.approvalRequestId } : {};
}

/** Opens an approval request, or returns the one already open for this action and payload. */
async function openApprovalRequest(
  tx: TenantTx,
  values: { action: string; payload: Record<string, unknown>; sha: string; requester: string; dealId: string | null; correlationId: string; now: Date; slaHours: number },
): Promise<string> {
  const inserted = await tx
    .insert(approvalRequests)
    .values({
      action: values.action,
      payload: values.payload,
      payloadSha256: values.sha,
      requester: values.requester,
      dealId: values.dealId,
      correlationId: values.correlationId,
      slaDueAt: new Date(values.now.getTime() + values.slaHours * 3_600_000),
    })
    .onConflictDoNothing({ target: [approvalRequests.tenantId, approvalRequests.action, approvalRequests.payloadSha256], where: sql`status = 'pending'` })
    .returning({ id: approvalRequests.id });
  if (inserted[0]) return inserted[0].id;
  const [open] = await tx
    .select({ id: approvalRequests.id })
    .from(approvalRequests)
    .where(sql`${approvalRequests.action} = ${values.action} AND ${approvalRequests.payloadSha256} = ${values.sha} AND ${approvalRequests.status} = 'pending'`);
  if (!open) throw new Error('approval request vanished between insert and select');
  return open.id;
}
