import { createRoute, z } from '@hono/zod-openapi';
import { and, desc, eq, gte, lt, lte, type SQL } from 'drizzle-orm';
import { requirePermission } from '../auth/auth.middleware.ts';
import { decisions, policyOverrides } from '../db/schema.ts';
import { dealScopeFor } from '../deals/deal-scope.ts';
import { DEFAULT_POLICY_VERSION, POLICY_SETS } from '../policy/policy-sets.ts';
import { AppError } from '../http/app-error.ts';
import { decodeCursor, toPage } from '../http/pagination.ts';
import { problemResponse } from '../http/problem.ts';
import { BEARER, COMMON_ERROR_RESPONSES, createRouter, IDEMPOTENCY_HEADER, jsonBody, jsonResponse } from '../http/router.ts';
import { resolveCanaryVersion } from './canary.ts';
import { executeAction, type ExecuteDeps, type ExecuteOutcome, refusalError } from './execute-action.ts';
import { ZAction, ZDecision, ZDecisionPage, ZExecuteRequest, ZListDecisionsQuery, ZPolicyOverrideRequest, ZPolicyView, type TDecision } from './gateway.schemas.ts';

export function toDecision(outcome: ExecuteOutcome): TDecision {
  return {
    decision_id: outcome.decisionId,
    correlation_id: outcome.correlationId,
    result: outcome.result,
    reason: outcome.reason,
    action: outcome.action,
    policy_class: outcome.policyClass,
    matched_rule: outcome.matchedRule,
    policy_version: outcome.policyVersion,
    canary_version: outcome.canaryVersion,
    payload_sha256: outcome.payloadSha256,
    approval_request_id: outcome.approvalRequestId,
    standing_approval_id: outcome.standingApprovalId,
    flow_run_id: outcome.flowRunId,
  };
}

export function gatewayRoutes(deps: Omit<ExecuteDeps, 'logger'>) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: '/gateway/execute',
      tags: ['Gateway'],
      summary: 'Run an action through the policy gate, approvals and a durable flow',
      description:
        'accepted → 202 with the flow run; requires_approval → 202 with the approval request; class C → 403 action_forbidden; ' +
        'a refused approval token → 403 approval_refused; unknown action or invalid payload → 422 action_not_executable. Every call leaves a decision.',
      security: BEARER,
      middleware: [requirePermission('gateway:execute')] as const,
      request: { headers: IDEMPOTENCY_HEADER, body: jsonBody(ZExecuteRequest) },
      responses: { 202: jsonResponse(ZDecision, 'Accepted, or waiting for approval'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const outcome = await executeAction({
        tx: c.var.tx,
        tenantId: c.var.auth.tenantId,
        request: {
          actor: c.var.auth.sub,
          action: body.action,
          payload: body.payload,
          correlationId: c.var.correlationId,
          idempotencyKey: c.req.header('idempotency-key'),
          approvalToken: body.approval_token,
          dealScope: dealScopeFor(c.var.auth, 'gateway:execute'),
        },
        deps: { ...deps, logger: c.var.logger },
      });
      const decision = toDecision(outcome);
      if (outcome.result === 'accepted' || outcome.result === 'requires_approval') return c.json(decision, 202);
      // The refusal is answered as a problem, and its decision row still commits.
      c.set('keepOnRefusal', true);
      return problemResponse(c, refusalError(outcome, { decision })) as never;
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/decisions',
      tags: ['Gateway'],
      summary: 'The decision log, newest first',
      security: BEARER,
      middleware: [requirePermission('decisions:read')] as const,
      request: { query: ZListDecisionsQuery },
      responses: { 200: jsonResponse(ZDecisionPage, 'A page of decisions'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const conditions: (SQL | undefined)[] = [
        q.action ? eq(decisions.action, q.action) : undefined,
        q.result ? eq(decisions.result, q.result) : undefined,
        q.from ? gte(decisions.createdAt, new Date(q.from)) : undefined,
        q.to ? lte(decisions.createdAt, new Date(q.to)) : undefined,
      ];
      const after = decodeCursor(q.cursor);
      if (after) conditions.push(lt(decisions.id, after));
      const rows = await c.var.tx.select().from(decisions).where(and(...conditions)).orderBy(desc(decisions.id)).limit(q.limit + 1);
      const page = toPage(
        rows.map((r) => ({
          id: r.id,
          correlation_id: r.correlationId,
          actor: r.actor,
          action: r.action,
          policy_class: r.policyClass,
          matched_rule: r.matchedRule,
          policy_version: r.policyVersion,
          payload_sha256: r.payloadSha256,
          result: r.result,
          reason: r.reason,
          approval_request_id: r.approvalRequestId,
          standing_approval_id: r.standingApprovalId,
          approval_token_id: r.approvalTokenId,
          canary_version: r.canaryVersion,
          flow_run_id: r.flowRunId,
          created_at: r.createdAt.toISOString(),
        })),
        q.limit,
      );
      return c.json(page, 200);
    },
  );

  const policyView = async (c: { var: { tx: Parameters<typeof resolveCanaryVersion>[0]; auth: { tenantId: string } } }) => {
    const canary = await resolveCanaryVersion(c.var.tx, c.var.auth.tenantId, 'policy');
    const set = POLICY_SETS[canary ?? DEFAULT_POLICY_VERSION] ?? (POLICY_SETS[DEFAULT_POLICY_VERSION] as (typeof POLICY_SETS)[string]);
    const overrides = await c.var.tx.select().from(policyOverrides).orderBy(policyOverrides.action);
    return {
      version: set.version,
      canary: Boolean(canary),
      classes: { A: [...set.classes.A], B: [...set.classes.B], C: [...set.classes.C] },
      unknown_actions: set.unknown,
      overrides: overrides.map((o) => ({ action: o.action, class: o.policyClass, reason: o.reason, created_by: o.createdBy, created_at: o.createdAt.toISOString() })),
      plugins: deps.router.actions().map((action) => ({ action, description: deps.router.get(action)?.description ?? '' })),
    };
  };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/policy',
      tags: ['Gateway'],
      summary: "The tenant's policy: class table in force, overrides, installed plugins",
      security: BEARER,
      middleware: [requirePermission('decisions:read')] as const,
      responses: { 200: jsonResponse(ZPolicyView, 'The policy'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => c.json(await policyView(c), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/policy/overrides/{action}',
      tags: ['Gateway'],
      summary: 'Tighten one action to class B or C for this tenant',
      security: BEARER,
      middleware: [requirePermission('policy:manage')] as const,
      request: { params: z.object({ action: ZAction.openapi({ param: { name: 'action', in: 'path' } }) }), body: jsonBody(ZPolicyOverrideRequest) },
      responses: { 200: jsonResponse(ZPolicyView, 'The policy after the change'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const { action } = c.req.valid('param');
      const body = c.req.valid('json');
      const set = POLICY_SETS[DEFAULT_POLICY_VERSION];
      if (set?.classes.C.includes(action) && body.class !== 'C') throw new AppError('validation_failed', 'Class C actions stay class C', { errors: [{ field: 'class', message: 'class C cannot be loosened' }] });
      await c.var.tx
        .insert(policyOverrides)
        .values({ action, policyClass: body.class, reason: body.reason, createdBy: c.var.auth.sub })
        .onConflictDoUpdate({ target: [policyOverrides.tenantId, policyOverrides.action], set: { policyClass: body.class, reason: body.reason, createdBy: c.var.auth.sub } });
      return c.json(await policyView(c), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/policy/overrides/{action}',
      tags: ['Gateway'],
      summary: "Remove an override (the action returns to the policy table's class, never below it)",
      security: BEARER,
      middleware: [requirePermission('policy:manage')] as const,
      request: { params: z.object({ action: ZAction.openapi({ param: { name: 'action', in: 'path' } }) }) },
      responses: { 200: jsonResponse(ZPolicyView, 'The policy after the change'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const removed = await c.var.tx.delete(policyOverrides).where(eq(policyOverrides.action, c.req.valid('param').action)).returning();
      if (removed.length === 0) throw new AppError('not_found', 'No override for this action');
      return c.json(await policyView(c), 200);
    },
  );

  return router;
}
