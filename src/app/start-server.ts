import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { issueToken } from '../auth/issue-token.ts';
import { createTokenVerifier } from '../auth/verify-token.ts';
import type { Config } from '../config/config.ts';
import { createDb, createPool } from '../db/client.ts';
import { openDatabase, prepareDatabase } from '../db/database-runtime.ts';
import { assertAppRoleIsConfined, latestShippedMigration } from '../db/migrate.ts';
import { seedDemoTenant, DEMO_SLUG } from './seed-demo.ts';
import { findUserWithRole, unsafeFindTenantBySlug, unsafePurgeExpiredIdempotencyKeys } from '../tenancy/tenants.store.ts';
import { withTenant } from '../tenancy/with-tenant.ts';
import { parseMasterKey } from '../crypto/envelope.ts';
import { FlowRegistry } from '../flows/flow-definition.ts';
import { FLOW_CONNECTIONS_PER_SLOT, startFlowWorker, type FlowWorker } from '../flows/flow-worker.ts';
import { killAt } from '../config/fault-points.ts';
import { TaskRouter } from '../gateway/task-router.ts';
import { registerBuiltinPlugins } from './builtin-plugins.ts';
import { registerOsFlows } from './register-flows.ts';
import { createWhatsAppService } from '../whatsapp/outbound/whatsapp-service.ts';
import { shippedIntentClassifier } from '../intents/intent-classifier.ts';
import { createApp } from './app.ts';
import { listenHttp } from './http-server.ts';
import { withFlowWorker, type ReadinessReport } from './health.routes.ts';
import { createMetrics } from '../http/metrics.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface RunningServer {
  url: string;
  /** An admin token for the demo tenant, when the demo tenant exists and tokens are HS256. */
  demoAdminToken: string | undefined;
  stop(): Promise<void>;
}

/**
 * Boots everything in order: database (embedded or external), migrations, app role checks,
 * demo seed, HTTP server. `stop()` undoes it in reverse: stop accepting, drain in-flight
 * requests, close pools, stop PostgreSQL.
 */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const database = await openDatabase(config, logger);
  const stack: Array<() => Promise<void>> = [() => database.stop()];
  const unwind = async () => {
    for (const step of stack.reverse()) await step().catch((error: unknown) => logger.error({ err: error }, 'shutdown step failed'));
    stack.length = 0;
  };
  try {
    await prepareDatabase(database, config, logger);
    const ownerPool = createPool({ connectionString: database.ownerUrl, max: 2, applicationName: 'dealix-maintenance' });
    stack.push(() => ownerPool.end());
    const appPool = createPool({ connectionString: database.appUrl, max: config.poolMax, applicationName: 'dealix-app' });
    stack.push(() => appPool.end());
    await assertAppRoleIsConfined(appPool);

    if (config.seedDemo) {
      const seeded = await seedDemoTenant(ownerPool);
      if (seeded.created) logger.info({ tenant: DEMO_SLUG }, 'demo tenant seeded');
    }

    const hsSecret = config.jwt.mode === 'hs256' ? (config.jwt.secret ?? database.localSecrets?.jwtSecret) : undefined;
    const verifier = createTokenVerifier(config.jwt, hsSecret);
    const metrics = createMetrics({ defaultMetrics: true });
    const latest = await latestShippedMigration();
    const appDb = createDb(appPool);
    let worker: FlowWorker | undefined;
    const databaseReadiness = async (): Promise<ReadinessReport> => {
      try {
        const result = await appDb.execute<{ newest: string | null }>(sql`SELECT max(created_at)::text AS newest FROM drizzle.__drizzle_migrations`);
        const newest = Number(result.rows[0]?.newest ?? 0);
        const migrationsOk = newest >= latest.when;
        return {
          ready: migrationsOk,
          checks: {
            database: { ok: true },
            migrations: { ok: migrationsOk, detail: migrationsOk ? `at ${latest.tag}` : `pending: database is behind ${latest.tag}` },
          },
        };
      } catch (error) {
        logger.warn({ err: error }, 'readiness check failed');
        return { ready: false, checks: { database: { ok: false, detail: 'unreachable' }, migrations: { ok: false, detail: 'unknown' } } };
      }
    };
    const readiness = withFlowWorker(databaseReadiness, () => worker?.health());
    const masterKey = config.masterKey ?? parseMasterKey(database.localSecrets?.masterKey ?? '');
    const whatsapp = createWhatsAppService({ config: config.whatsapp, masterKey });
    stack.push(async () => whatsapp.shutdown());
    const router = new TaskRouter(new FlowRegistry());
    registerBuiltinPlugins(router, { whatsapp });
    registerOsFlows(router, { masterKey });
    const app = createApp({
      logger,
      metrics,
      appPool,
      verifier,
      readiness,
      idempotencyTtlHours: config.idempotencyTtlHours,
      lockTimeoutMs: config.lockTimeoutMs,
      bodyLimitBytes: config.bodyLimitBytes,
      version: VERSION,
      fabric: { router, masterKey, approvalTokenTtlHours: config.approvalTokenTtlHours },
      whatsapp,
    });

    if (config.workerConcurrency > 0) {
      const workerPool = createPool({ connectionString: database.ownerUrl, max: config.workerConcurrency + 3, applicationName: 'dealix-worker' });
      stack.push(() => workerPool.end());
      // Flow steps get their own dealix_app pool, sized so it cannot run dry: a slot holds at most
      // FLOW_CONNECTIONS_PER_SLOT at once (the run's advisory-lock lease, the step's transaction,
      // and one short transaction a step opens inside it: a side-effect record or an attempt row).
      // Shared with requests, a busy worker would starve the API, and more slots than
      // connections would deadlock every slot on its second connection.
      const flowPool = createPool({
        connectionString: database.appUrl,
        max: config.workerConcurrency * FLOW_CONNECTIONS_PER_SLOT + 1,
        applicationName: 'dealix-flows',
      });
      stack.push(() => flowPool.end());
      const started = await startFlowWorker({
        appPool: flowPool,
        ownerPool: workerPool,
        registry: router.registry,
        logger,
        concurrency: config.workerConcurrency,
        recoveryIntervalMs: config.flowRecoveryIntervalMs,
        faults: killAt(config.faultPoint),
      });
      worker = started;
      stack.push(() => started.stop());
    }

    const sweep = setInterval(() => {
      unsafePurgeExpiredIdempotencyKeys(ownerPool)
        .then((purged) => purged && logger.info({ purged }, 'expired idempotency keys purged'))
        .catch((error: unknown) => logger.warn({ err: error }, 'idempotency key purge failed'));
    }, 60 * 60 * 1000);
    sweep.unref();
    stack.push(async () => clearInterval(sweep));

    const server = await listenHttp({ fetch: app.fetch, port: config.port, hostname: config.host, timeouts: config.http, logger });
    stack.push(() => closeServer(server));
    // Train the intent model now (≈0.4 s, once) rather than inside the first request's transaction.
    setImmediate(() => {
      try {
        shippedIntentClassifier();
      } catch (error) {
        logger.error({ err: error }, 'intent model failed to train');
      }
    });
    const address = server.address() as AddressInfo;
    const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    const url = `http://${shownHost}:${address.port}`;

    let demoAdminToken: string | undefined;
    if (hsSecret) {
      const demo = await unsafeFindTenantBySlug(ownerPool, DEMO_SLUG);
      if (demo) {
        const admin = await withTenant({ pool: ownerPool, tenantId: demo.id, readOnly: true }, (tx) => findUserWithRole(tx, 'admin'));
        if (admin) {
          demoAdminToken = await issueToken({
            secret: hsSecret,
            tenantId: demo.id,
            sub: admin.id,
            roles: ['admin'],
            ttlHours: config.tokenTtlHours,
            ...(config.jwt.issuer ? { issuer: config.jwt.issuer } : {}),
            ...(config.jwt.audience ? { audience: config.jwt.audience } : {}),
          });
        }
      }
    }
    return { url, demoAdminToken, stop: unwind };
  } catch (error) {
    await unwind();
    throw error;
  }
}

/** Stops accepting connections, lets in-flight requests finish (10 s at most), then closes. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      if ('closeAllConnections' in server) server.closeAllConnections();
    }, 10_000);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    if ('closeIdleConnections' in server) server.closeIdleConnections();
  });
}
