import { createRoute, z } from '@hono/zod-openapi';
import { requirePermission } from '../../auth/auth.middleware.ts';
import { refusalError, type ExecuteDeps } from '../../gateway/execute-action.ts';
import { AppError } from '../../http/app-error.ts';
import { problemResponse } from '../../http/problem.ts';
import { BEARER, COMMON_ERROR_RESPONSES, createRouter, IDEMPOTENCY_HEADER, jsonBody, jsonResponse } from '../../http/router.ts';
import { deleteProviderCredentials, saveProviderCredentials } from '../outbound/credentials.store.ts';
import { tenantProviderSettings } from '../outbound/provider-settings.ts';
import { listProviderStatus } from './list-provider-status.ts';
import { testSend } from './test-send.ts';
import type { WhatsAppService } from '../outbound/whatsapp-service.ts';
import { ZProviderCredentialsRequest, ZProviderCredentialsSaved, ZProviderParam, ZProviderStatusList, ZTestSendRequest, ZTestSendResponse, ZTestSendRunOutput } from './whatsapp.schemas.ts';

/** Provider credentials (admin), the providers' health, and a test send through the chain. */
export function whatsappRoutes(deps: Omit<ExecuteDeps, 'logger'> & { whatsapp: WhatsAppService }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'put',
      path: '/whatsapp/providers/{name}',
      tags: ['WhatsApp'],
      summary: "Set the tenant's own credentials for a provider (stored encrypted, never returned; they replace the environment's)",
      security: BEARER,
      middleware: [requirePermission('whatsapp:manage')] as const,
      request: { params: ZProviderParam, headers: IDEMPOTENCY_HEADER, body: jsonBody(ZProviderCredentialsRequest) },
      responses: { 200: jsonResponse(ZProviderCredentialsSaved, 'Saved; only the names of the fields set are echoed'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      // The api_url rules (https, documented hosts, WHATSAPP_ALLOWED_API_HOSTS) keep a tenant from aiming sends at our network.
      const parsed = tenantProviderSettings(name, deps.whatsapp.config.allowedApiOrigins).safeParse(c.req.valid('json'));
      if (!parsed.success) {
        throw new AppError('validation_failed', `The ${name} settings are not valid`, {
          errors: parsed.error.issues.map((issue) => ({ field: issue.path.join('.') || 'body', message: issue.message })),
        });
      }
      deps.whatsapp.forgetProviders(c.var.tx, c.var.auth.tenantId);
      const saved = await saveProviderCredentials({
        tx: c.var.tx,
        tenantId: c.var.auth.tenantId,
        masterKey: deps.masterKey,
        provider: name,
        settings: parsed.data,
        actor: c.var.auth.sub,
      });
      return c.json({ provider: name, configured: true as const, source: 'tenant' as const, fields: Object.keys(parsed.data).sort(), updated_at: saved.updatedAt.toISOString() }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/whatsapp/providers/{name}',
      tags: ['WhatsApp'],
      summary: "Remove the tenant's own credentials for a provider (the environment's apply again, if any)",
      security: BEARER,
      middleware: [requirePermission('whatsapp:manage')] as const,
      request: { params: ZProviderParam },
      responses: { 204: { description: 'Removed' }, ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      deps.whatsapp.forgetProviders(c.var.tx, c.var.auth.tenantId);
      if (!(await deleteProviderCredentials({ tx: c.var.tx, provider: name }))) throw new AppError('not_found', `No credentials of this tenant for ${name}`);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/os/whatsapp-providers',
      tags: ['WhatsApp'],
      summary: 'Each provider: configured, position in the chain, circuit state, last success, last error, error rate, p50 latency (no secret)',
      security: BEARER,
      middleware: [requirePermission('whatsapp:read')] as const,
      responses: { 200: jsonResponse(ZProviderStatusList, 'The four providers and the sandbox'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => c.json(await listProviderStatus({ tx: c.var.tx, tenantId: c.var.auth.tenantId, whatsapp: deps.whatsapp }), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/os/test-send',
      tags: ['WhatsApp'],
      summary: 'Send a test message through the fallback chain and see every attempt (class B: an approval token or a standing approval)',
      description:
        'Without a usable approval the answer is 202 with the approval request; approve it, then call again with `approval_token`. ' +
        'Accepted: 202 at once, with the durable run in `flow_run_id` and a `Location` header (`/api/v1/flows/{id}`) to poll. ' +
        "Once the run is completed, its `output` is a `TestSendRunOutput`: the chain's verdict and every provider tried.",
      security: BEARER,
      middleware: [requirePermission('whatsapp:test_send')] as const,
      request: { headers: IDEMPOTENCY_HEADER, body: jsonBody(ZTestSendRequest) },
      responses: {
        202: {
          ...jsonResponse(ZTestSendResponse, 'Waiting for approval, or accepted: the send runs as a durable flow'),
          headers: z.object({ Location: z.string().optional().openapi({ description: 'When accepted: the flow run to poll, /api/v1/flows/{id}' }) }),
        },
        ...COMMON_ERROR_RESPONSES,
      },
    }),
    async (c) => {
      const outcome = await testSend({
        tx: c.var.tx,
        tenantId: c.var.auth.tenantId,
        actor: c.var.auth.sub,
        input: c.req.valid('json'),
        correlationId: c.var.correlationId,
        idempotencyKey: c.req.header('idempotency-key'),
        deps: { router: deps.router, masterKey: deps.masterKey, logger: c.var.logger },
      });
      if (outcome.result !== 'accepted' && outcome.result !== 'requires_approval') {
        // The refusal is answered as a problem, and its decision row still commits.
        c.set('keepOnRefusal', true);
        return problemResponse(c, refusalError(outcome, { decision_id: outcome.decisionId })) as never;
      }
      const accepted = outcome.result === 'accepted' && outcome.flowRunId;
      if (accepted) c.header('Location', `/api/v1/flows/${outcome.flowRunId}`);
      return c.json(
        {
          decision_id: outcome.decisionId,
          correlation_id: outcome.correlationId,
          result: outcome.result,
          approval_request_id: outcome.approvalRequestId,
          flow_run_id: outcome.flowRunId,
          run_status: accepted ? ('pending' as const) : null,
        },
        202,
      );
    },
  );

  // Not a response of any route (it is a run's output), so registered by hand for the docs.
  router.openAPIRegistry.register('TestSendRunOutput', ZTestSendRunOutput);

  return router;
}
