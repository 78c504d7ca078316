import { createRoute } from '@hono/zod-openapi';
import type pg from 'pg';
import { requirePermission } from '../auth/auth.middleware.ts';
import { refusalError, type ExecuteDeps } from '../gateway/execute-action.ts';
import { AppError } from '../server/app-error.ts';
import { problemResponse } from '../server/problem.ts';
import { BEARER, COMMON_ERROR_RESPONSES, createRouter, IDEMPOTENCY_HEADER, jsonBody, jsonResponse } from '../server/router.ts';
import { deleteProviderCredentials, saveProviderCredentials } from './credentials.store.ts';
import { tenantProviderSettings } from './provider-settings.ts';
import { listProviderStatus } from './provider-status.ts';
import { testSend } from './test-send.ts';
import type { WhatsAppService } from './whatsapp-service.ts';
import { ZProviderCredentialsRequest, ZProviderCredentialsSaved, ZProviderParam, ZProviderStatusList, ZTestSendRequest, ZTestSendResponse } from './whatsapp.schemas.ts';

/** Provider credentials (admin), the providers' health, and a test send through the chain. */
export function whatsappRoutes(deps: Omit<ExecuteDeps, 'logger'> & { whatsapp: WhatsAppService; appPool: pg.Pool }) {
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
        'Accepted: the send runs as a durable flow; the answer waits for it (up to 15 s) and lists the attempts (202 with run_status running if it has not finished).',
      security: BEARER,
      middleware: [requirePermission('whatsapp:test_send')] as const,
      request: { headers: IDEMPOTENCY_HEADER, body: jsonBody(ZTestSendRequest) },
      responses: { 200: jsonResponse(ZTestSendResponse, 'Sent (or refused by the providers): the attempts'), 202: jsonResponse(ZTestSendResponse, 'Waiting for approval, or still running'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const result = await testSend({
        pool: deps.appPool,
        tenantId: c.var.auth.tenantId,
        actor: c.var.auth.sub,
        input: c.req.valid('json'),
        correlationId: c.var.correlationId,
        idempotencyKey: c.req.header('idempotency-key'),
        deps: { router: deps.router, masterKey: deps.masterKey, logger: c.var.logger },
      });
      const { outcome } = result;
      if (outcome.result !== 'accepted' && outcome.result !== 'requires_approval') {
        return problemResponse(c, refusalError(outcome, { decision_id: outcome.decisionId })) as never;
      }
      const finished = result.runStatus === 'completed' || result.runStatus === 'failed';
      const body = {
        decision_id: outcome.decisionId,
        correlation_id: outcome.correlationId,
        result: outcome.result,
        approval_request_id: outcome.approvalRequestId,
        flow_run_id: outcome.flowRunId,
        run_status: outcome.result === 'accepted' ? (result.runStatus ?? 'running') : null,
        send: finished && result.output ? (result.output as never) : null,
      };
      return c.json(body, finished ? 200 : 202);
    },
  );

  return router;
}
