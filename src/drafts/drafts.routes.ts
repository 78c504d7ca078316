import { createRoute } from '@hono/zod-openapi';
import { requirePermission } from '../auth/auth.middleware.ts';
import { dealScopeFor } from '../deals/deal-scope.ts';
import type { ExecuteDeps } from '../gateway/execute-action.ts';
import { BEARER, COMMON_ERROR_RESPONSES, createRouter, IDEMPOTENCY_HEADER, jsonBody, jsonResponse, ZIdParam } from '../http/router.ts';
import { approveDraft } from './approve-draft.ts';
import { ZApproveDraftResponse, ZDraft, ZDraftPage, ZEditDraftRequest, ZListDraftsQuery, ZRejectDraftRequest } from './drafts.schemas.ts';
import { editDraft } from './edit-draft.ts';
import { listDrafts } from './list-drafts.ts';
import { rejectDraft } from './reject-draft.ts';

/** Reply drafts the lifecycle left for a human (SPEC §3): list, edit, approve (send), reject. */
export function draftsRoutes(deps: Omit<ExecuteDeps, 'logger'> & { tokenTtlHours: number }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/drafts',
      tags: ['Drafts'],
      summary: 'List drafts, newest first (a sales_rep sees only drafts of deals they own)',
      security: BEARER,
      middleware: [requirePermission('drafts:read')] as const,
      request: { query: ZListDraftsQuery },
      responses: { 200: jsonResponse(ZDraftPage, 'A page of drafts'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => c.json(await listDrafts({ tx: c.var.tx, query: c.req.valid('query'), scope: dealScopeFor(c.var.auth, 'drafts:read') }), 200),
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/drafts/{id}',
      tags: ['Drafts'],
      summary: "Edit a pending draft's text (bumps its version; an approval for the old text never covers the new one)",
      security: BEARER,
      middleware: [requirePermission('drafts:edit')] as const,
      request: { params: ZIdParam, headers: IDEMPOTENCY_HEADER, body: jsonBody(ZEditDraftRequest) },
      responses: { 200: jsonResponse(ZDraft, 'The edited draft'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) =>
      c.json(
        await editDraft({
          tx: c.var.tx,
          draftId: c.req.valid('param').id,
          input: c.req.valid('json'),
          actor: c.var.auth.sub,
          scope: dealScopeFor(c.var.auth, 'drafts:edit'),
          correlationId: c.var.correlationId,
        }),
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/drafts/{id}/approve',
      tags: ['Drafts'],
      summary: 'Approve a pending draft: sends its current text through the gateway under a class B approval',
      security: BEARER,
      middleware: [requirePermission('drafts:decide')] as const,
      request: { params: ZIdParam, headers: IDEMPOTENCY_HEADER },
      responses: { 200: jsonResponse(ZApproveDraftResponse, 'The approved draft, its decision and its send flow run'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) =>
      c.json(
        await approveDraft({
          tx: c.var.tx,
          tenantId: c.var.auth.tenantId,
          draftId: c.req.valid('param').id,
          approver: c.var.auth.sub,
          scope: dealScopeFor(c.var.auth, 'drafts:decide'),
          correlationId: c.var.correlationId,
          deps: { ...deps, logger: c.var.logger },
        }),
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/drafts/{id}/reject',
      tags: ['Drafts'],
      summary: 'Reject a pending draft, with a reason (status discarded; nothing is sent)',
      security: BEARER,
      middleware: [requirePermission('drafts:decide')] as const,
      request: { params: ZIdParam, headers: IDEMPOTENCY_HEADER, body: jsonBody(ZRejectDraftRequest) },
      responses: { 200: jsonResponse(ZDraft, 'The discarded draft'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) =>
      c.json(
        await rejectDraft({
          tx: c.var.tx,
          draftId: c.req.valid('param').id,
          input: c.req.valid('json'),
          actor: c.var.auth.sub,
          scope: dealScopeFor(c.var.auth, 'drafts:decide'),
          correlationId: c.var.correlationId,
        }),
        200,
      ),
  );

  return router;
}
