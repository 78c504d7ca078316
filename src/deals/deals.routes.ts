import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { requirePermission } from '../auth/auth.middleware.ts';
import { ZPageQuery } from '../http/pagination.ts';
import { BEARER, COMMON_ERROR_RESPONSES, createRouter, IDEMPOTENCY_HEADER, jsonBody, jsonResponse, ZIdParam } from '../http/router.ts';
import { createDeal } from './create-deal.ts';
import { dealScopeFor } from './deal-scope.ts';
import {
  ZActivityPage,
  ZCreateDealRequest,
  ZDeal,
  ZDealPage,
  ZListDealsQuery,
  ZTimeline,
  ZTimelineQuery,
  ZTransitionRequest,
  ZTransitionResponse,
  ZUpdateDealRequest,
} from './deals.schemas.ts';
import { getDealTimeline } from './get-deal-timeline.ts';
import { getDeal } from './get-deal.ts';
import { listDealActivities } from './list-deal-activities.ts';
import { listDeals } from './list-deals.ts';
import { transitionDealStage, type StopOutreach } from './transition-deal-stage.ts';
import { updateDeal } from './update-deal.ts';


/** Who is writing and what they may touch: the same for every deal command. */
function writer(c: Context<AppEnv>) {
  return { tx: c.var.tx, actor: c.var.auth.sub, scope: dealScopeFor(c.var.auth, 'deals:write'), correlationId: c.var.correlationId };
}

export function dealsRoutes(deps: { stopOutreach: StopOutreach }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/deals',
      tags: ['Deals'],
      summary: 'List deals, newest first (a sales_rep sees only their own)',
      security: BEARER,
      middleware: [requirePermission('deals:read')] as const,
      request: { query: ZListDealsQuery },
      responses: { 200: jsonResponse(ZDealPage, 'A page of deals'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => c.json(await listDeals({ tx: c.var.tx, query: c.req.valid('query'), scope: dealScopeFor(c.var.auth, 'deals:read') }), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/deals',
      tags: ['Deals'],
      summary: 'Open a deal at new_lead',
      security: BEARER,
      middleware: [requirePermission('deals:write')] as const,
      request: { headers: IDEMPOTENCY_HEADER, body: jsonBody(ZCreateDealRequest) },
      responses: { 201: jsonResponse(ZDeal, 'The deal'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const deal = await createDeal({ ...writer(c), input: c.req.valid('json') });
      c.header('Location', `/api/v1/deals/${deal.id}`);
      return c.json(deal, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/deals/{id}',
      tags: ['Deals'],
      summary: 'Get a deal',
      security: BEARER,
      middleware: [requirePermission('deals:read')] as const,
      request: { params: ZIdParam },
      responses: { 200: jsonResponse(ZDeal, 'The deal'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => c.json(await getDeal({ tx: c.var.tx, dealId: c.req.valid('param').id, scope: dealScopeFor(c.var.auth, 'deals:read') }), 200),
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/deals/{id}',
      tags: ['Deals'],
      summary: 'Edit a deal (not its stage)',
      security: BEARER,
      middleware: [requirePermission('deals:write')] as const,
      request: { params: ZIdParam, headers: IDEMPOTENCY_HEADER, body: jsonBody(ZUpdateDealRequest) },
      responses: { 200: jsonResponse(ZDeal, 'The updated deal'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) =>
      c.json(
        await updateDeal({
          tx: c.var.tx,
          dealId: c.req.valid('param').id,
          input: c.req.valid('json'),
          actor: c.var.auth.sub,
          scope: dealScopeFor(c.var.auth, 'deals:write'),
          correlationId: c.var.correlationId,
        }),
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/deals/{id}/transitions',
      tags: ['Deals'],
      summary: 'Move a deal to another stage (guarded by the lifecycle)',
      security: BEARER,
      middleware: [requirePermission('deals:write')] as const,
      request: { params: ZIdParam, headers: IDEMPOTENCY_HEADER, body: jsonBody(ZTransitionRequest) },
      responses: { 200: jsonResponse(ZTransitionResponse, 'The deal in its new stage and the timeline entry'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const { deal, activity, stopped } = await transitionDealStage({
        tx: c.var.tx,
        dealId: c.req.valid('param').id,
        input: c.req.valid('json'),
        actor: c.var.auth.sub,
        scope: dealScopeFor(c.var.auth, 'deals:write'),
        correlationId: c.var.correlationId,
        stopOutreach: deps.stopOutreach,
      });
      const cancelled = stopped
        ? { cancelled_outbound_ids: stopped.outboundIds, cancelled_timed_reply_run_ids: stopped.timedReplyRunIds, in_flight_outbound_ids: stopped.inFlightOutboundIds }
        : {};
      return c.json({ deal, activity, ...cancelled }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/deals/{id}/activities',
      tags: ['Deals'],
      summary: "The deal's timeline, newest first",
      security: BEARER,
      middleware: [requirePermission('deals:read')] as const,
      request: { params: ZIdParam, query: z.object(ZPageQuery) },
      responses: { 200: jsonResponse(ZActivityPage, 'A page of activities'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const query = c.req.valid('query');
      return c.json(
        await listDealActivities({
          tx: c.var.tx,
          dealId: c.req.valid('param').id,
          scope: dealScopeFor(c.var.auth, 'deals:read'),
          limit: query.limit,
          cursor: query.cursor,
        }),
        200,
      );
    },
  );


  router.openapi(
    createRoute({
      method: 'get',
      path: '/deals/{id}/timeline',
      tags: ['Deals'],
      summary: 'Everything that happened on a deal: activities, inbound and outbound messages, gateway decisions, oldest first',
      description:
        'Merged in chronological order (ties in write order); the newest `limit` entries (default 200, at most 500). Decisions are those ' +
        "whose flow run's input payload names this deal (decisions that started no flow run are not linked to a deal).",
      security: BEARER,
      middleware: [requirePermission('deals:read')] as const,
      request: { params: ZIdParam, query: ZTimelineQuery },
      responses: { 200: jsonResponse(ZTimeline, 'The timeline'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) =>
      c.json(
        await getDealTimeline({ tx: c.var.tx, dealId: c.req.valid('param').id, scope: dealScopeFor(c.var.auth, 'deals:read'), limit: c.req.valid('query').limit }),
        200,
      ),
  );

  return router;
}
