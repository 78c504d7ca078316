import { createRoute } from '@hono/zod-openapi';
import { requirePermission } from '../auth/auth.middleware.ts';
import { dealScopeFor } from '../deals/deal-scope.ts';
import { BEARER, COMMON_ERROR_RESPONSES, createRouter, jsonBody, jsonResponse } from '../server/router.ts';
import { describeStages } from './describe-stages.ts';
import { ZProcessRequest, ZProcessResponse, ZStagesResponse } from './os.schemas.ts';
import { processEvent } from './process-event.ts';

export function osRoutes() {
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
    (c) => c.json(describeStages(), 200),
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
        await processEvent({ tx: c.var.tx, input: c.req.valid('json'), scope: dealScopeFor(c.var.auth, 'deals:read'), correlationId: c.var.correlationId }),
        200,
      ),
  );

  return router;
}
