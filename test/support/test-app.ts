import { Writable } from 'node:stream';
import pg from 'pg';
import { issueToken } from '../../src/auth/issue-token.ts';
import type { Role } from '../../src/auth/roles.ts';
import { createTokenVerifier } from '../../src/auth/verify-token.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlowRegistry } from '../../src/flows/flow-definition.ts';
import { startFlowWorker, type FlowWorker } from '../../src/flows/flow-worker.ts';
import { TaskRouter, type ActionPlugin } from '../../src/gateway/task-router.ts';
import { registerBuiltinPlugins } from '../../src/app/builtin-plugins.ts';
import { registerOsFlows } from '../../src/app/register-flows.ts';
import type { WhatsAppConfig } from '../../src/config/config.ts';
import type { ProviderChainOptions } from '../../src/whatsapp/outbound/send-smart.ts';
import { createWhatsAppService } from '../../src/whatsapp/outbound/whatsapp-service.ts';
import { createPool } from '../../src/db/client.ts';
import { createApp } from '../../src/app/app.ts';
import { createLogger } from '../../src/http/logger.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { createTenant } from '../../src/tenancy/create-tenant.ts';
import { insertUser } from '../../src/tenancy/tenants.store.ts';
import { withTenant } from '../../src/tenancy/with-tenant.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export const TEST_JWT_SECRET = 'test-only-secret-with-at-least-32-bytes!!';
export const TEST_MASTER_KEY = Buffer.from('0123456789abcdef0123456789abcdef', 'utf8');

/** A response body as JSON, or undefined when it is not JSON (tests assert on the shapes they expect). */
// Tests assert on response bodies of many shapes; typing each would only restate the schemas.
export function readJson(text: string): any {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

export interface TestTenant {
  id: string;
  slug: string;
  adminId: string;
  /** A token for this tenant with the given role (sub defaults to the tenant's admin). */
  token(role?: Role, sub?: string): Promise<string>;
  /** Adds a user with these roles and returns its id. */
  addUser(roles: Role[]): Promise<string>;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

/**
 * An in-process app (`app.request()`) over its own cloned database, with the log lines kept
 * in memory so tests can read what was logged.
 */
export async function createTestApp(
  options: {
    lockTimeoutMs?: number;
    poolMax?: number;
    plugins?: ActionPlugin[];
    /** The clock timed replies read business hours and ask the gateway with (the engine's timers use the real one). */
    clock?: () => Date;
    /** WhatsApp providers from "the environment" (default: none, the sandbox sends). */
    whatsapp?: Partial<WhatsAppConfig>;
    /** Breaker and rate-limit settings for the provider chains (tests shorten them). */
    chain?: Omit<ProviderChainOptions, 'providers'>;
    /** Rewrites the app pool's URL (a test routes it through a proxy it can take down). */
    appUrlVia?: (appUrl: string) => string;
  } = {},
) {
  const database: TestDatabase = await createTestDatabase();
  const appPool = createPool({ connectionString: options.appUrlVia ? options.appUrlVia(database.appUrl) : database.appUrl, max: options.poolMax ?? 20, applicationName: 'dealix-test' });
  const ownerPool = createPool({ connectionString: database.ownerUrl, max: 4, applicationName: 'dealix-test-owner' });
  const superuser = new pg.Pool({ connectionString: database.superuserUrl, max: 2 });
  // As createPool does for ours: the per-file DROP DATABASE … WITH (FORCE) can reach a backend
  // whose client is still closing (57P01); without a listener that is an uncaught error in the run.
  superuser.on('error', () => undefined);
  superuser.on('connect', (client) => client.on('error', () => undefined));
  const logLines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const whatsapp = createWhatsAppService({
    config: { order: undefined, providers: {}, timeoutMs: 2_000, allowedApiOrigins: [], ...options.whatsapp },
    masterKey: TEST_MASTER_KEY,
    ...(options.chain ? { chain: options.chain } : {}),
  });
  const router = new TaskRouter(new FlowRegistry());
  registerBuiltinPlugins(router, { whatsapp });
  for (const plugin of options.plugins ?? []) router.register(plugin);
  registerOsFlows(router, { masterKey: TEST_MASTER_KEY, ...(options.clock ? { now: options.clock } : {}) });
  const app = createApp({
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
    appPool,
    verifier: createTokenVerifier({ mode: 'hs256', secret: TEST_JWT_SECRET }, TEST_JWT_SECRET),
    readiness: async () => ({ ready: true, checks: {} }),
    idempotencyTtlHours: 24,
    lockTimeoutMs: options.lockTimeoutMs ?? 10_000,
    bodyLimitBytes: 64 * 1024,
    version: 'test',
    fabric: { router, masterKey: TEST_MASTER_KEY, approvalTokenTtlHours: 24 },
    whatsapp,
  });

  async function createTestTenant(slug: string): Promise<TestTenant> {
    const result = await createTenant({ ownerPool, slug, name: `Tenant ${slug}` });
    if (!result.created) throw new Error(`tenant ${slug} exists`);
    const tenantId = result.tenant.id;
    const admin = await withTenant({ pool: ownerPool, tenantId, readOnly: true }, async (tx) => {
      const { findUserWithRole } = await import('../../src/tenancy/tenants.store.ts');
      return findUserWithRole(tx, 'admin');
    });
    if (!admin) throw new Error('no admin');
    return {
      id: tenantId,
      slug,
      adminId: admin.id,
      token: (role = 'admin', sub = admin.id) => issueToken({ secret: TEST_JWT_SECRET, tenantId, sub, roles: [role], ttlHours: 1 }),
      addUser: async (roles) =>
        (
          await withTenant({ pool: ownerPool, tenantId }, (tx) =>
            insertUser(tx, { email: `${roles.join('-')}-${Math.random().toString(36).slice(2)}@${slug}.test`, displayName: roles.join(' '), roles }),
          )
        ).id,
    };
  }

  async function request(method: string, path: string, init: RequestOptions = {}) {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    let body: string | undefined = init.rawBody;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: readJson(text) };
  }

  const workers: FlowWorker[] = [];

  return {
    app,
    router,
    whatsapp,
    /** Starts a flow worker on this app's pools; `close()` stops it first. */
    async startWorker(options: { pollIntervalMs?: number } = {}): Promise<FlowWorker> {
      const worker = await startFlowWorker({
        appPool,
        ownerPool,
        registry: router.registry,
        logger,
        concurrency: 4,
        pollIntervalMs: options.pollIntervalMs ?? 100,
      });
      workers.push(worker);
      return worker;
    },
    /** Row counts of every table in the database, read past RLS: proves a call wrote nothing. */
    async countEveryTable(): Promise<Record<string, number>> {
      const tables = await superuser.query<{ name: string }>(
        `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
          WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
            -- graphile-worker's registry of task names: a worker writes it when it starts polling,
            -- whenever that is, so it says nothing about what a request did (a flaky "changed").
            AND (table_schema, table_name) <> ('graphile_worker', '_private_tasks')
          ORDER BY 1`,
      );
      const counts: Record<string, number> = {};
      for (const { name } of tables.rows) counts[name] = Number((await superuser.query(`SELECT count(*) AS n FROM ${name}`)).rows[0].n);
      return counts;
    },
    /** Polls GET /flows/{id} until the run reaches one of `want` (about 7 s at most). */
    async waitForRun(runId: string, want: string[], token: string) {
      for (let i = 0; i < 300; i++) {
        const run = await request('GET', `/api/v1/flows/${runId}`, { token });
        if (want.includes(run.json.status)) return run.json;
        await sleep(25);
      }
      throw new Error(`run ${runId} never reached ${want.join('|')}`);
    },
    logger,
    database,
    appPool,
    ownerPool,
    /** Superuser pool: reads the truth past RLS, for asserting what is (not) in the database. */
    superuser,
    logLines,
    createTestTenant,
    request,
    async close() {
      for (const worker of workers) await worker.stop();
      whatsapp.shutdown();
      await appPool.end();
      await ownerPool.end();
      await superuser.end();
      await database.drop();
    },
  };
}

export type TestApp = Awaited<ReturnType<typeof createTestApp>>;
