import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type pg from 'pg';
import type { Logger } from 'pino';
import { authenticate } from '../auth/auth.middleware.ts';
import type { TokenVerifier } from '../auth/verify-token.ts';
import { approvalsRoutes } from '../approvals/approvals.routes.ts';
import { contactsRoutes } from '../contacts/contacts.routes.ts';
import { flowsRoutes } from '../flows/flows.routes.ts';
import { gatewayRoutes } from '../gateway/gateway.routes.ts';
import { osSettingsRoutes } from '../os-settings/os-settings.routes.ts';
import type { WhatsAppService } from '../whatsapp/outbound/whatsapp-service.ts';
import { webhookKeysRoutes } from '../whatsapp/admin/webhook-keys.routes.ts';
import { whatsappWebhooksRoutes } from '../whatsapp/inbound/webhooks.routes.ts';
import { whatsappRoutes } from '../whatsapp/admin/whatsapp.routes.ts';
import type { TaskRouter } from '../gateway/task-router.ts';
import { dealsRoutes } from '../deals/deals.routes.ts';
import { stopOutboundFor } from '../os/stop-outbound-for.ts';
import { draftsRoutes } from '../drafts/drafts.routes.ts';
import { idempotency } from '../idempotency/idempotency.middleware.ts';
import { intentsRoutes } from '../intents/intents.routes.ts';
import { osRoutes } from '../os/os.routes.ts';
import { tenantScope } from '../tenancy/tenant-scope.middleware.ts';
import { AppError } from '../http/app-error.ts';
import type { AppEnv } from '../http/context.ts';
import { docsRoutes } from '../http/docs.ts';
import { healthRoutes, type ReadinessCheck } from './health.routes.ts';
import type { Metrics } from '../http/metrics.ts';
import { problemResponse, toAppError } from '../http/problem.ts';
import { requestContext } from '../http/request-context.ts';

export interface AppDeps {
  logger: Logger;
  metrics: Metrics;
  /** The dealix_app pool: every request transaction runs here, under RLS. */
  appPool: pg.Pool;
  verifier: TokenVerifier;
  readiness: ReadinessCheck;
  idempotencyTtlHours: number;
  lockTimeoutMs: number;
  bodyLimitBytes: number;
  version: string;
  /** The execution fabric: plugins (and their flows), and the key that seals signing keys. */
  fabric: { router: TaskRouter; masterKey: Buffer; approvalTokenTtlHours: number };
  /** WhatsApp providers: the environment's configuration and the fallback chains. */
  whatsapp: WhatsAppService;
}

/**
 * Builds the HTTP application. No I/O happens here, so tests build one per file with
 * `app.request()` against a real database, and the server wraps the same object.
 */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  app.use('*', requestContext({ logger: deps.logger, metrics: deps.metrics }));
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: deps.bodyLimitBytes,
      onError: () => {
        throw new AppError('payload_too_large', `The request body exceeds ${deps.bodyLimitBytes} bytes`);
      },
    }),
  );
  app.use('/api/v1/*', authenticate(deps.verifier), tenantScope(deps.appPool, deps.lockTimeoutMs), idempotency({ ttlHours: deps.idempotencyTtlHours }));

  app.route('/', healthRoutes({ readiness: deps.readiness, metrics: deps.metrics }));
  app.route('/', docsRoutes());
  app.route('/api/v1', contactsRoutes());
  app.route('/api/v1', dealsRoutes({ stopOutreach: stopOutboundFor }));
  app.route('/api/v1', gatewayRoutes({ router: deps.fabric.router, masterKey: deps.fabric.masterKey }));
  app.route('/api/v1', approvalsRoutes({ masterKey: deps.fabric.masterKey, tokenTtlHours: deps.fabric.approvalTokenTtlHours }));
  app.route('/api/v1', flowsRoutes({ registry: deps.fabric.router.registry }));
  app.route('/api/v1', intentsRoutes());
  app.route('/api/v1', draftsRoutes({ router: deps.fabric.router, masterKey: deps.fabric.masterKey, tokenTtlHours: deps.fabric.approvalTokenTtlHours }));
  app.route('/api/v1', osRoutes({ router: deps.fabric.router, masterKey: deps.fabric.masterKey }));
  app.route('/api/v1', osSettingsRoutes());
  app.route('/api/v1', webhookKeysRoutes({ masterKey: deps.fabric.masterKey }));
  app.route('/webhooks/whatsapp', whatsappWebhooksRoutes({ appPool: deps.appPool, whatsapp: deps.whatsapp, registry: deps.fabric.router.registry, bodyLimitBytes: deps.bodyLimitBytes, lockTimeoutMs: deps.lockTimeoutMs }));
  app.route('/api/v1', whatsappRoutes({ router: deps.fabric.router, masterKey: deps.fabric.masterKey, whatsapp: deps.whatsapp }));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'A JWT with tenant_id, sub and roles. `npx dealix token --tenant demo --role admin` prints one.',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Dealix API',
      version: deps.version,
      description:
        'Governed sales automation for B2B teams in Saudi Arabia and the Gulf. Every error is RFC 9457 ' +
        '`application/problem+json`; POST/PUT/PATCH accept an `Idempotency-Key`; every response carries `X-Correlation-Id`. ' +
        'Strings must be well-formed Unicode without U+0000, numbers finite (not 1e400); a JSON body nests at most 64 levels and holds at most 10,000 values (422 otherwise).',
    },
    servers: [{ url: '/' }],
  });

  app.notFound((c) => problemResponse(c, new AppError('not_found', `No route for ${c.req.method} ${c.req.path}`)));
  app.onError((error, c) => {
    const appError = toAppError(error);
    const logger = c.get('logger') ?? deps.logger;
    if (appError.code === 'internal') logger.error({ err: error }, 'unhandled error');
    else if (appError.status >= 500) logger.warn({ err: error, code: appError.code }, appError.detail);
    else logger.debug({ code: appError.code, detail: appError.detail }, 'request refused');
    return problemResponse(c, appError);
  });
  return app;
}
