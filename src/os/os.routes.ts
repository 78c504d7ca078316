import { createRoute } from '@hono/zod-openapi';
import { requirePermission } from '../auth/auth.middleware.ts';
import { dealScopeFor } from '../deals/deal-scope.ts';
import type { ExecuteDeps } from '../gateway/execute-action.ts';
import { BEARER, COMMON_ERROR_RESPONSES, createRouter, IDEMPOTENCY_HEADER, jsonBody, jsonResponse } from '../http/router.ts';
import { loadLifecycleConfig } from '../os-settings/os-settings.store.ts';
import { describeStages } from './describe-stages.ts';
import { bulkProcess } from './bulk-process.ts';
import { ZBulkProcessRequest, ZBulkProcessResponse, ZProcessAndActResponse, ZProcessRequest, ZProcessResponse, ZStagesResponse } from './os.schemas.ts';
import { processAndAct } from './process-and-act.ts';
import { processEvent } from './process-event.ts';

export function osRoutes(deps: Omit<ExecuteDeps, 'logger'>) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/os/stages',
      tags: ['OS'],
      summary: 'The deal lifecycle: every stage with its transitions, triggers, entry actions, templates and questions',
      security: BEARER,
      middleware: [requirePermission('deals:read')] as const,
      responses: { 200: jsonResponse(ZStagesResponse, 'All 13 stages, in lifecycle order'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => c.json(describeStages((await loadLifecycleConfig(c.var.tx, c.var.auth.tenantId)).templates), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/os/process',
      tags: ['OS'],
      summary: 'Classify an event and decide the next stage, actions and reply; changes nothing',
      description:
        'Reads the contact and deal (a phone not on file is a new lead) and proposes: the target stage from the lifecycle table, ' +
        'each action with its policy class and mode (auto, draft, blocked, scheduled) and the reply. Nothing is written or sent; ' +
        'the gateway enforces policy and approvals when the actions run.',
      security: BEARER,
      middleware: [requirePermission('os:process')] as const,
      request: { body: jsonBody(ZProcessRequest) },
      responses: { 200: jsonResponse(ZProcessResponse, 'The decision'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) =>
      c.json(
        await processEvent({ tx: c.var.tx, tenantId: c.var.auth.tenantId, input: c.req.valid('json'), scope: dealScopeFor(c.var.auth, 'deals:read'), correlationId: c.var.correlationId }),
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/os/bulk-process',
      tags: ['OS'],
      summary: 'POST /os/process for up to 500 events at once; each gets its own result or its own problem; changes nothing',
      description:
        'Only the envelope is validated as a whole (1..500 events). Each event is validated and decided on its own, in order: ' +
        'the answer holds one entry per event, `{index, ok: true, result}` with the /os/process response or `{index, ok: false, problem}` ' +
        'with an RFC 9457 problem (validation_failed naming the fields relative to the event, not_found, or internal). ' +
        'One bad event does not fail the others. Nothing is written or sent.',
      security: BEARER,
      middleware: [requirePermission('os:process')] as const,
      request: { body: jsonBody(ZBulkProcessRequest) },
      responses: { 200: jsonResponse(ZBulkProcessResponse, 'One result or problem per event, in order'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) =>
      c.json(
        await bulkProcess({
          tx: c.var.tx,
          tenantId: c.var.auth.tenantId,
          events: c.req.valid('json').events,
          scope: dealScopeFor(c.var.auth, 'deals:read'),
          correlationId: c.var.correlationId,
          logger: c.var.logger,
        }),
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/os/process-and-act',
      tags: ['OS'],
      summary: 'Process an event and act on it: record it, move the deal, then send the reply through the gateway or draft it',
      description:
        'Decides exactly as POST /os/process, then in one transaction: the contact (created when the phone is new), the deal ' +
        "(the given one, the contact's newest open deal, or a new one at new_lead), the inbound message, the guarded stage " +
        'transition (opt-out also cancels queued outbound), and the reply: mode auto → send_whatsapp through the gateway (a draft ' +
        'when no standing approval fits), draft or scheduled → a draft, blocked → nothing. Send an Idempotency-Key: a retry ' +
        'replays the first response and does nothing twice.',
      security: BEARER,
      middleware: [requirePermission('os:act')] as const,
      request: { headers: IDEMPOTENCY_HEADER, body: jsonBody(ZProcessRequest) },
      responses: { 200: jsonResponse(ZProcessAndActResponse, 'The decision and what was done'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) =>
      c.json(
        await processAndAct({
          tx: c.var.tx,
          tenantId: c.var.auth.tenantId,
          input: c.req.valid('json'),
          scope: dealScopeFor(c.var.auth, 'deals:write'),
          actor: c.var.auth.sub,
          correlationId: c.var.correlationId,
          idempotencyKey: c.req.header('idempotency-key'),
          deps: { ...deps, logger: c.var.logger },
        }),
        200,
      ),
  );

  return router;
}
