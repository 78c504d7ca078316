import { createRoute, z } from '@hono/zod-openapi';
import { requirePermission } from '../auth/auth.middleware.ts';
import { dealScopeFor } from '../deals/deal-scope.ts';
import { decodeCursor, toPage, ZPageMeta, ZPageQuery } from '../http/pagination.ts';
import { BEARER, COMMON_ERROR_RESPONSES, createRouter, IDEMPOTENCY_HEADER, jsonBody, jsonResponse, ZIdParam } from '../http/router.ts';
import { slaState } from './approval-sla.ts';
import type { ApprovalRequestRow, StandingApprovalRow } from './approvals.store.ts';
import { approveRequest } from './approve-request.ts';
import { grantStandingApproval } from './grant-standing-approval.ts';
import { listApprovalRequests } from './list-approval-requests.ts';
import { listStandingApprovals } from './list-standing-approvals.ts';
import { rejectRequest } from './reject-request.ts';
import { revokeStandingApproval } from './revoke-standing-approval.ts';
import { ZStandingConditions } from './standing-approvals.ts';
import { readJsonColumn, ZJsonObject } from '../db/json-column.ts';

const ZApprovalRequest = z
  .object({
    id: z.uuid(),
    action: z.string(),
    payload: z.record(z.string(), z.unknown()),
    payload_sha256: z.string(),
    requester: z.string(),
    status: z.enum(['pending', 'approved', 'rejected', 'withdrawn']),
    sla_state: z.enum(['pending', 'warning', 'breach', 'met']),
    sla_due_at: z.string(),
    decided_by: z.string().nullable(),
    decided_at: z.string().nullable(),
    decision_reason: z.string().nullable(),
    correlation_id: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('ApprovalRequest');

const ZStandingApproval = z
  .object({
    id: z.uuid(),
    action: z.string(),
    conditions: z.record(z.string(), z.unknown()),
    granted_by: z.string(),
    expires_at: z.string(),
    revoked_at: z.string().nullable(),
    revoked_by: z.string().nullable(),
    active: z.boolean(),
    created_at: z.string(),
  })
  .openapi('StandingApproval');

const toRequest = (row: ApprovalRequestRow, now: Date) => ({
  id: row.id,
  action: row.action,
  payload: readJsonColumn(ZJsonObject, row.payload, 'approval_requests.payload'),
  payload_sha256: row.payloadSha256,
  requester: row.requester,
  status: row.status as 'pending' | 'approved' | 'rejected' | 'withdrawn',
  sla_state: slaState(row, now),
  sla_due_at: row.slaDueAt.toISOString(),
  decided_by: row.decidedBy,
  decided_at: row.decidedAt?.toISOString() ?? null,
  decision_reason: row.decisionReason,
  correlation_id: row.correlationId,
  created_at: row.createdAt.toISOString(),
});

const toStanding = (row: StandingApprovalRow, now: Date) => ({
  id: row.id,
  action: row.action,
  conditions: readJsonColumn(ZStandingConditions, row.conditions, 'standing_approvals.conditions'),
  granted_by: row.grantedBy,
  expires_at: row.expiresAt.toISOString(),
  revoked_at: row.revokedAt?.toISOString() ?? null,
  revoked_by: row.revokedBy,
  active: !row.revokedAt && row.expiresAt > now,
  created_at: row.createdAt.toISOString(),
});

export function approvalsRoutes(deps: { masterKey: Buffer; tokenTtlHours: number }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/approvals',
      tags: ['Approvals'],
      summary: 'Approval requests with their SLA state, newest first (a sales_rep sees those they opened or whose deal they own)',
      security: BEARER,
      middleware: [requirePermission('approvals:read')] as const,
      request: {
        query: z.object({ ...ZPageQuery, status: z.enum(['pending', 'approved', 'rejected', 'withdrawn']).optional().openapi({ param: { name: 'status', in: 'query' } }) }),
      },
      responses: { 200: jsonResponse(z.object({ data: z.array(ZApprovalRequest), ...ZPageMeta }).openapi('ApprovalPage'), 'A page'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const scope = dealScopeFor(c.var.auth, 'approvals:read');
      const own = scope.ownerUserId === undefined ? undefined : { requester: c.var.auth.sub, scope };
      const rows = await listApprovalRequests({ tx: c.var.tx, status: q.status, afterId: decodeCursor(q.cursor), limit: q.limit + 1, own });
      const now = new Date();
      return c.json(toPage(rows.map((r) => toRequest(r, now)), q.limit), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/approvals/{id}/approve',
      tags: ['Approvals'],
      summary: 'Approve: returns the single-use approval token bound to the action and payload',
      security: BEARER,
      middleware: [requirePermission('approvals:decide')] as const,
      request: { params: ZIdParam, headers: IDEMPOTENCY_HEADER },
      responses: {
        200: jsonResponse(
          z.object({ approval: ZApprovalRequest, approval_token: z.string(), token_id: z.string(), expires_at: z.string() }).openapi('Approved'),
          'Approved',
        ),
        ...COMMON_ERROR_RESPONSES,
      },
    }),
    async (c) => {
      const result = await approveRequest({
        tx: c.var.tx,
        tenantId: c.var.auth.tenantId,
        requestId: c.req.valid('param').id,
        approver: c.var.auth.sub,
        masterKey: deps.masterKey,
        ttlHours: deps.tokenTtlHours,
      });
      return c.json(
        { approval: toRequest(result.request, new Date()), approval_token: result.token, token_id: result.tokenId, expires_at: result.expiresAt.toISOString() },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/approvals/{id}/reject',
      tags: ['Approvals'],
      summary: 'Reject, with a reason',
      security: BEARER,
      middleware: [requirePermission('approvals:decide')] as const,
      request: { params: ZIdParam, headers: IDEMPOTENCY_HEADER, body: jsonBody(z.strictObject({ reason: z.string().trim().min(3, 'a reason is required').max(1000) })) },
      responses: { 200: jsonResponse(ZApprovalRequest, 'Rejected'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const row = await rejectRequest({ tx: c.var.tx, requestId: c.req.valid('param').id, approver: c.var.auth.sub, reason: c.req.valid('json').reason });
      return c.json(toRequest(row, new Date()), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/standing-approvals',
      tags: ['Approvals'],
      summary: 'Standing approvals (scoped pre-approvals; not for own-only roles)',
      security: BEARER,
      middleware: [requirePermission('standing_approvals:read')] as const,
      responses: { 200: jsonResponse(z.object({ data: z.array(ZStandingApproval) }), 'All, newest first'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const now = new Date();
      return c.json({ data: (await listStandingApprovals({ tx: c.var.tx })).map((r) => toStanding(r, now)) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/standing-approvals',
      tags: ['Approvals'],
      summary: 'Grant a standing approval: the gate mints tokens itself for calls that fit',
      security: BEARER,
      middleware: [requirePermission('approvals:decide')] as const,
      request: {
        headers: IDEMPOTENCY_HEADER,
        body: jsonBody(
          z
            .strictObject({
              action: z.string().regex(/^[a-z][a-z0-9_]{1,63}$/, 'must be a snake_case action name'),
              conditions: ZStandingConditions.default({}),
              expires_at: z.iso.datetime({ offset: true, message: 'must be an ISO date-time' }).refine((v) => new Date(v) > new Date(), 'must be in the future'),
            })
            .openapi('GrantStandingApproval'),
        ),
      },
      responses: { 201: jsonResponse(ZStandingApproval, 'Granted'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const row = await grantStandingApproval({ tx: c.var.tx, action: body.action, conditions: body.conditions, grantedBy: c.var.auth.sub, expiresAt: new Date(body.expires_at) });
      return c.json(toStanding(row, new Date()), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/standing-approvals/{id}/revoke',
      tags: ['Approvals'],
      summary: 'Revoke a standing approval (effective at once)',
      security: BEARER,
      middleware: [requirePermission('approvals:decide')] as const,
      request: { params: ZIdParam },
      responses: { 200: jsonResponse(ZStandingApproval, 'Revoked'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => c.json(toStanding(await revokeStandingApproval({ tx: c.var.tx, id: c.req.valid('param').id, revokedBy: c.var.auth.sub }), new Date()), 200),
  );

  return router;
}
