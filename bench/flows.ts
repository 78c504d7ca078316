/**
 * The flow benchmark (`BENCH_ONLY=flows`): Dealix durable flows against DBOS Transact and a
 * raw single-row INSERT, on one embedded PostgreSQL started for the bench. See bench/README.md.
 *
 * Everything runs in this process: the closed-loop clients, Dealix's flow worker
 * (graphile-worker) and DBOS. The three are measured one after another, never at once.
 */
import { loadConfig } from '../src/config/config.ts';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { loadOrCreateLocalSecrets } from '../src/config/local-secrets.ts';
import { createPool } from '../src/db/client.ts';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../src/db/embedded.ts';
import { ensureAppRoleLogin, runMigrations } from '../src/db/migrate.ts';
import { uuidv7 } from '../src/db/uuid-v7.ts';
import { startFlow } from '../src/flows/flow-commands.ts';
import { defineFlow, FlowRegistry, type StepDefinition } from '../src/flows/flow-definition.ts';
import { startFlowWorker, type FlowWorker } from '../src/flows/flow-worker.ts';
import { createLogger } from '../src/http/logger.ts';
import { createTenant } from '../src/tenancy/create-tenant.ts';
import { withTenant } from '../src/tenancy/with-tenant.ts';
import { percentile, runLoopLoad, runQueryLoad, type LoadResult } from './load.ts';
import { Cleanup, freePort, log, makeTempDir, postmasterPidOf, removeDir, sampleCpu, stopOrphanPostmaster, type CpuSample } from './processes.ts';
import { envInt, round } from './util.ts';
import { ZAnyFlowInput } from '../test/support/flow-input.ts';

const DURATION_S = envInt('BENCH_FLOW_DURATION_S', 8);
const WARMUP_S = envInt('BENCH_FLOW_WARMUP_S', 2);
const CONCURRENCIES = (process.env.BENCH_FLOW_CONCURRENCY || '1,16').split(',').map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n <= 0) throw new Error('BENCH_FLOW_CONCURRENCY must be a comma-separated list of positive integers');
  return n;
});
/**
 * graphile-worker's concurrency (jobs at once) and its poll interval. A new job wakes an idle
 * worker through LISTEN/NOTIFY, so the interval is only a fallback; each of the
 * `concurrency` workers polls on its own, so a short one costs round trips for nothing (10 ms
 * added ~40 get_job queries per run at concurrency 1, and no pickup speed).
 */
// The product's default worker slots (DEALIX_WORKER_CONCURRENCY), unless overridden: the
// figure should describe Dealix as it ships. With 16 slots on 2 cores throughput rises ~10 %
// but steps queue for CPU and p99 step latency roughly doubles.
const WORKER_CONCURRENCY = envInt('BENCH_FLOW_WORKER_CONCURRENCY', loadConfig({}).workerConcurrency);
const WORKER_POLL_MS = envInt('BENCH_FLOW_WORKER_POLL_MS', 1000);
/** How often the one completion poller looks for finished Dealix runs. */
const COMPLETION_POLL_MS = envInt('BENCH_FLOW_COMPLETION_POLL_MS', 2);
/** Dealix's worker pool: an advance holds two connections (its advisory-lock lease and its transactions). */
const WORKER_POOL = 2 * WORKER_CONCURRENCY;

const TARGET_RATIO = 5;
const TARGET_P99_STEP_MS = 20;

const DBOS_VERSION = (JSON.parse(readFileSync(new URL('../node_modules/@dbos-inc/dbos-sdk/package.json', import.meta.url), 'utf8')) as { version: string }).version;

// ─── Measurement plumbing ────────────────────────────────────────────────────────────────

/** performance.now() at the entry of each step function, per run (workflow) id. */
const stepEntries = new Map<string, number[]>();
function markStep(runId: string | undefined): void {
  if (!runId) return;
  const marks = stepEntries.get(runId);
  if (marks) marks.push(performance.now());
  else stepEntries.set(runId, [performance.now()]);
}

/** One completed run of a measured window. Times in ms since the client started it. */
interface RunSample {
  id: string;
  total: number;
  /** When the start call (Dealix: the startFlow transaction; DBOS: startWorkflow) returned. */
  startReturned: number;
  /** Entry of each of the three step functions. */
  steps: number[];
}

/** Round trips (client.query calls) and explicit transactions (BEGINs), per application_name. */
const queryCounts = new Map<string, { queries: number; begins: number }>();
let countQueries = false;

/**
 * Counts every query sent through node-postgres in this process, by the connection's
 * application_name. DBOS loads the same `pg` package, so its queries are counted too.
 * One client.query call is one round trip (node-postgres does not pipeline).
 */
function installQueryCounter(): () => void {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function countedQuery(this: { connectionParameters?: { application_name?: string } }, ...args: unknown[]) {
    if (countQueries) {
      const app = (this.connectionParameters?.application_name ?? '?').replace(/^dbos_transact_.*/, 'dbos_transact');
      const first = args[0];
      const text = typeof first === 'string' ? first : ((first as { text?: unknown } | null)?.text ?? '');
      const entry = queryCounts.get(app) ?? { queries: 0, begins: 0 };
      entry.queries += 1;
      if (typeof text === 'string' && /^\s*BEGIN\b/i.test(text)) entry.begins += 1;
      queryCounts.set(app, entry);
    }
    return original.apply(this, args);
  };
  return () => {
    proto.query = original;
  };
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const p = (values: number[], q: number) => percentile(sorted(values), q);
const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');

interface Measured {
  load: LoadResult;
  samples: RunSample[];
  /** Per-step latency measured in-process: entry of step k → entry of step k+1. */
  stepMs: number[];
}

/**
 * Warm-up (discarded), then a measured closed loop of `concurrency` clients, each running
 * `op` (start a run, wait for it to complete) again and again. Logs a breakdown on stderr.
 */
async function measureRuns(
  name: string,
  concurrency: number,
  op: (record: (sample: RunSample) => void) => Promise<void>,
  pgDataDir: string,
): Promise<Measured> {
  let samples: RunSample[] = [];
  const run = (durationS: number, keep: boolean) =>
    runLoopLoad({ concurrency, durationS, op: () => op((sample) => keep && samples.push(sample)) });
  log(`${name} ×${concurrency}: warming up for ${WARMUP_S} s`);
  const warm = await run(WARMUP_S, false);
  if (warm.failed > 0) throw new Error(`${name} ×${concurrency} (warm-up): ${warm.failed} runs failed`);
  samples = [];
  queryCounts.clear();
  log(`${name} ×${concurrency}: measuring for ${DURATION_S} s`);
  const postmaster = postmasterPidOf(pgDataDir);
  const before = await sampleCpu(process.pid, postmaster);
  countQueries = true;
  const load = await run(DURATION_S, true);
  countQueries = false;
  const after = await sampleCpu(process.pid, postmaster);
  if (load.failed > 0) throw new Error(`${name} ×${concurrency}: ${load.failed} runs failed`);
  if (load.ok === 0) throw new Error(`${name} ×${concurrency}: no run completed`);

  const stepMs: number[] = [];
  for (const sample of samples) {
    for (let k = 1; k < sample.steps.length; k++) stepMs.push((sample.steps[k] ?? 0) - (sample.steps[k - 1] ?? 0));
  }
  const along = (pick: (s: RunSample) => number) => ms(p(samples.map(pick), 50));
  log(
    `${name} ×${concurrency}: ${load.ok} runs, ${load.rps.toFixed(1)} runs/s; run p50 ${ms(load.p50_ms)} p99 ${ms(load.p99_ms)} ms; ` +
      `step (in-process, entry→next entry) p50 ${ms(p(stepMs, 50))} p99 ${ms(p(stepMs, 99))} ms`,
  );
  log(
    `${name} ×${concurrency}: p50 timeline (ms): start call ${along((s) => s.startReturned)}, start→step a ${along((s) => s.steps[0] ?? NaN)}, ` +
      `a→b ${along((s) => (s.steps[1] ?? NaN) - (s.steps[0] ?? NaN))}, b→c ${along((s) => (s.steps[2] ?? NaN) - (s.steps[1] ?? NaN))}, ` +
      `c→seen complete ${along((s) => s.total - (s.steps[2] ?? NaN))}`,
  );
  logCpu(`${name} ×${concurrency}`, before, after, load);
  const perRun = [...queryCounts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([app, c]) => `${app} ${(c.queries / load.ok).toFixed(1)} (${(c.begins / load.ok).toFixed(1)} BEGIN)`)
    .join(', ');
  log(`${name} ×${concurrency}: round trips per run by connection: ${perRun}`);
  return { load, samples, stepMs };
}

function logCpu(name: string, before: CpuSample, after: CpuSample, load: LoadResult): void {
  const perOp = (key: 'server' | 'postgres') => (((after[key] - before[key]) * 1000) / Math.max(1, load.ok)).toFixed(3);
  const busy = (100 * (after.machineBusy - before.machineBusy)) / Math.max(0.001, after.machineTotal - before.machineTotal);
  log(`${name}: CPU ms per op: bench process (clients + engine) ${perOp('server')}, postgres ${perOp('postgres')}; machine ${busy.toFixed(0)}% busy over ${os.cpus().length} cores`);
  const accounted = after.server - before.server + (after.postgres - before.postgres);
  const elsewhere = (after.machineBusy - before.machineBusy - accounted) / load.duration_s;
  if (elsewhere > 0.15) log(`${name}: WARNING: ${(100 * elsewhere).toFixed(0)}% of a core went to other processes during this run; figures are noisy`);
}

// ─── The database ────────────────────────────────────────────────────────────────────────

interface Database {
  handle: EmbeddedPostgresHandle;
  pgDataDir: string;
  superuserPassword: string;
  appPassword: string;
  /** The superuser on the Dealix database (polling, analysis, raw inserts). */
  superuserUrl(database: string): string;
}

async function startDatabase(cleanup: Cleanup): Promise<Database> {
  const dataDir = await makeTempDir('dealix-bench-flows-');
  cleanup.add('remove the flow bench data dir', () => removeDir(dataDir));
  const pgDataDir = path.join(dataDir, 'pg');
  cleanup.add('stop orphaned PostgreSQL', () => stopOrphanPostmaster(pgDataDir));
  const secrets = await loadOrCreateLocalSecrets(dataDir);
  const port = await freePort();
  log(`flows: starting embedded PostgreSQL on ${port}, data in ${dataDir}`);
  const handle = await startEmbeddedPostgres({ pgDataDir, port, secrets, logger: createLogger({ level: 'warn', destination: process.stderr }) });
  cleanup.add('stop the flow bench PostgreSQL', () => handle.stop());
  await runMigrations(handle.ownerUrl);
  await ensureAppRoleLogin(handle.ownerUrl, secrets.appPassword);
  return {
    handle,
    pgDataDir,
    superuserPassword: secrets.superuserPassword,
    appPassword: secrets.appPassword,
    superuserUrl: (database) => `postgres://postgres:${encodeURIComponent(secrets.superuserPassword)}@127.0.0.1:${port}/${database}`,
  };
}

// ─── Dealix ──────────────────────────────────────────────────────────────────────────────

const pure = { reason: 'a pure function of the run state', escalate: false };
const steps: StepDefinition[] = [
  { name: 'a', run: async (ctx) => (markStep(ctx.runId), { state: { a: 1 } }), noCompensation: pure },
  { name: 'b', run: async (ctx) => (markStep(ctx.runId), { state: { b: (ctx.state.a as number) + 1 } }), noCompensation: pure },
  { name: 'c', run: async (ctx) => (markStep(ctx.runId), { state: { c: (ctx.state.a as number) + (ctx.state.b as number) } }), noCompensation: pure },
];
const benchFlow = defineFlow({ input: ZAnyFlowInput, name: 'bench_three_steps', version: '1', steps });

/**
 * Finds completed runs for every waiting client at once: one query every COMPLETION_POLL_MS
 * over the ids still waiting, on one dedicated superuser connection (no RLS, no transaction).
 */
class CompletionPoller {
  readonly #client: pg.Client;
  readonly #waiting = new Map<string, (status: string) => void>();
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(url: string) {
    this.#client = new pg.Client({ connectionString: url, application_name: 'bench-completion-poller' });
  }

  async start(): Promise<void> {
    await this.#client.connect();
    this.#loop = this.#run();
  }

  wait(runId: string): Promise<string> {
    return new Promise((resolve) => this.#waiting.set(runId, resolve));
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (this.#waiting.size > 0) {
        const { rows } = await this.#client.query<{ id: string; status: string }>(
          `SELECT id, status FROM flow_runs WHERE id = ANY($1::uuid[]) AND status IN ('completed', 'failed', 'cancelled')`,
          [[...this.#waiting.keys()]],
        );
        for (const row of rows) {
          this.#waiting.get(row.id)?.(row.status);
          this.#waiting.delete(row.id);
        }
      }
      await sleep(COMPLETION_POLL_MS);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop?.catch(() => undefined);
    await this.#client.end();
  }
}

interface DealixFigures {
  measured: Measured;
  /** flow_runs.created_at → completed_at, from the database (no completion polling in it). */
  runDbMs: number[];
  /** flow_checkpoints step_started.at → step_completed.at (transaction start times). */
  stepCheckpointMs: number[];
}

async function benchDealix(db: Database, cleanup: Cleanup): Promise<Map<number, DealixFigures>> {
  const { handle } = db;
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const ownerPool = createPool({ connectionString: handle.ownerUrl, max: WORKER_CONCURRENCY + 4, applicationName: 'dealix-flow-graphile' });
  const workerPool = createPool({ connectionString: handle.appUrl, max: WORKER_POOL, applicationName: 'dealix-flow-worker' });
  const clientPool = createPool({ connectionString: handle.appUrl, max: Math.max(...CONCURRENCIES), applicationName: 'dealix-flow-clients' });
  const superuser = createPool({ connectionString: db.superuserUrl('dealix'), max: 2, applicationName: 'bench-analysis' });
  for (const pool of [ownerPool, workerPool, clientPool, superuser]) cleanup.add('close a pool', () => pool.end());

  const created = await createTenant({ ownerPool, slug: 'flow-bench', name: 'Flow bench' });
  if (!created.created) throw new Error('the flow-bench tenant already exists');
  const tenantId = created.tenant.id;
  const registry = new FlowRegistry();
  registry.register(benchFlow);

  log(`flows: starting the Dealix flow worker in-process (graphile-worker, concurrency ${WORKER_CONCURRENCY}, poll ${WORKER_POLL_MS} ms)`);
  const worker: FlowWorker = await startFlowWorker({
    appPool: workerPool,
    ownerPool,
    registry,
    logger,
    concurrency: WORKER_CONCURRENCY,
    pollIntervalMs: WORKER_POLL_MS,
  });
  let workerStopped = false;
  const stopWorker = async () => {
    if (workerStopped) return;
    workerStopped = true;
    await worker.stop();
  };
  cleanup.add('stop the Dealix flow worker', stopWorker);
  const poller = new CompletionPoller(db.superuserUrl('dealix'));
  await poller.start();
  cleanup.add('stop the completion poller', () => poller.stop());

  let n = 0;
  const op = async (record: (sample: RunSample) => void) => {
    const t0 = performance.now();
    const runId = await withTenant({ pool: clientPool, tenantId }, async (tx) => (await startFlow({ tx, flow: benchFlow, input: { n: (n += 1) } })).run.id);
    const startReturned = performance.now() - t0;
    const status = await poller.wait(runId);
    const total = performance.now() - t0;
    const marks = stepEntries.get(runId) ?? [];
    stepEntries.delete(runId);
    if (status !== 'completed') throw new Error(`run ${runId} ended ${status}`);
    if (marks.length !== 3) throw new Error(`run ${runId} entered ${marks.length} steps, expected 3`);
    record({ id: runId, total, startReturned, steps: marks.map((m) => m - t0) });
  };

  const results = new Map<number, DealixFigures>();
  for (const concurrency of CONCURRENCIES) {
    const measured = await measureRuns('dealix flow', concurrency, op, db.pgDataDir);
    const ids = measured.samples.map((s) => s.id);
    const runs = await superuser.query<{ ms: number }>(
      `SELECT (extract(epoch FROM completed_at - created_at) * 1000)::float8 AS ms FROM flow_runs WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const stepRows = await superuser.query<{ ms: number }>(
      `SELECT (extract(epoch FROM c.at - s.at) * 1000)::float8 AS ms
         FROM flow_checkpoints s
         JOIN flow_checkpoints c ON c.tenant_id = s.tenant_id AND c.run_id = s.run_id AND c.step = s.step AND c.status = 'step_completed'
        WHERE s.status = 'step_started' AND s.run_id = ANY($1::uuid[])`,
      [ids],
    );
    const runDbMs = runs.rows.map((r) => r.ms);
    const stepCheckpointMs = stepRows.rows.map((r) => r.ms);
    if (stepCheckpointMs.length !== 3 * ids.length) throw new Error(`expected ${3 * ids.length} step checkpoint pairs, found ${stepCheckpointMs.length}`);
    log(
      `dealix flow ×${concurrency}: from the database: run created_at→completed_at p50 ${ms(p(runDbMs, 50))} p99 ${ms(p(runDbMs, 99))} ms; ` +
        `step_started→step_completed checkpoints p50 ${ms(p(stepCheckpointMs, 50))} p99 ${ms(p(stepCheckpointMs, 99))} ms`,
    );
    results.set(concurrency, { measured, runDbMs, stepCheckpointMs });
  }
  await poller.stop();
  await stopWorker();
  log('flows: Dealix flow worker stopped');
  return results;
}

// ─── DBOS Transact ───────────────────────────────────────────────────────────────────────

interface DbosFigures {
  measured: Measured;
  /** operation_outputs started_at_epoch_ms → completed_at_epoch_ms. */
  stepCheckpointMs: number[];
}

async function benchDbos(db: Database, cleanup: Cleanup): Promise<Map<number, DbosFigures>> {
  const { DBOS } = await import('@dbos-inc/dbos-sdk');
  const sysDb = 'dealix_bench_dbos';
  const toStderr = (level: string) => (entry: unknown) => log(`[dbos ${level}] ${entry instanceof Error ? entry.message : String(entry)}`);
  DBOS.setConfig({
    name: 'dealix_bench',
    systemDatabaseUrl: db.superuserUrl(sysDb),
    // Its default pool (10 connections): on 2 cores it did better with fewer connections
    // than Dealix's worker gets (8 beat 32), so the baseline is left as shipped.
    logger: { info: () => undefined, debug: () => undefined, warn: toStderr('warn'), error: toStderr('error') },
  });
  type State = { a?: number; b?: number; c?: number };
  const stepA = DBOS.registerStep(async (): Promise<State> => (markStep(DBOS.workflowID), { a: 1 }), { name: 'a' });
  const stepB = DBOS.registerStep(async (state: State): Promise<State> => (markStep(DBOS.workflowID), { b: (state.a ?? 0) + 1 }), { name: 'b' });
  const stepC = DBOS.registerStep(async (state: State): Promise<State> => (markStep(DBOS.workflowID), { c: (state.a ?? 0) + (state.b ?? 0) }), { name: 'c' });
  const workflow = DBOS.registerWorkflow(
    async (_input: { n: number }): Promise<State> => {
      let state: State = {};
      state = { ...state, ...(await stepA()) };
      state = { ...state, ...(await stepB(state)) };
      state = { ...state, ...(await stepC(state)) };
      return state;
    },
    { name: 'bench_three_steps' },
  );
  log(`flows: launching DBOS Transact ${DBOS_VERSION} in-process (system database ${sysDb} on the same PostgreSQL, default pool)`);
  await DBOS.launch();
  let launched = true;
  const shutdown = async () => {
    if (!launched) return;
    launched = false;
    await DBOS.shutdown();
  };
  cleanup.add('shut DBOS down', shutdown);

  let n = 0;
  const op = async (record: (sample: RunSample) => void) => {
    const t0 = performance.now();
    const handle = await DBOS.startWorkflow(workflow)({ n: (n += 1) });
    const startReturned = performance.now() - t0;
    const result = await handle.getResult();
    const total = performance.now() - t0;
    const marks = stepEntries.get(handle.workflowID) ?? [];
    stepEntries.delete(handle.workflowID);
    if (result.c !== 3) throw new Error(`workflow ${handle.workflowID} returned ${JSON.stringify(result)}`);
    if (marks.length !== 3) throw new Error(`workflow ${handle.workflowID} entered ${marks.length} steps, expected 3`);
    record({ id: handle.workflowID, total, startReturned, steps: marks.map((m) => m - t0) });
  };

  const analysis = new pg.Client({ connectionString: db.superuserUrl(sysDb), application_name: 'bench-analysis' });
  await analysis.connect();
  cleanup.add('close the DBOS analysis connection', () => analysis.end());
  const results = new Map<number, DbosFigures>();
  for (const concurrency of CONCURRENCIES) {
    const measured = await measureRuns('dbos workflow', concurrency, op, db.pgDataDir);
    const stepRows = await analysis.query<{ ms: number }>(
      `SELECT (completed_at_epoch_ms - started_at_epoch_ms)::float8 AS ms FROM dbos.operation_outputs WHERE workflow_uuid = ANY($1::text[])`,
      [measured.samples.map((s) => s.id)],
    );
    const stepCheckpointMs = stepRows.rows.map((r) => r.ms);
    log(`dbos workflow ×${concurrency}: from the database: operation_outputs started→completed p50 ${ms(p(stepCheckpointMs, 50))} p99 ${ms(p(stepCheckpointMs, 99))} ms`);
    results.set(concurrency, { measured, stepCheckpointMs });
  }
  await shutdown();
  log('flows: DBOS shut down');
  return results;
}

// ─── Raw INSERT floor ────────────────────────────────────────────────────────────────────

async function benchRawInsert(db: Database, cleanup: Cleanup): Promise<Map<number, LoadResult>> {
  const pool = new pg.Pool({ connectionString: db.superuserUrl('dealix'), max: Math.max(...CONCURRENCIES), application_name: 'bench-raw-insert' });
  pool.on('error', () => undefined);
  cleanup.add('close the raw insert pool', () => pool.end());
  await pool.query('CREATE TABLE bench_raw (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, title text NOT NULL, value bigint NOT NULL)');
  const tenantId = uuidv7();
  let n = 0;
  const results = new Map<number, LoadResult>();
  for (const concurrency of CONCURRENCIES) {
    const run = (durationS: number) =>
      runQueryLoad({
        pool,
        concurrency,
        durationS,
        next: () => ({ text: 'INSERT INTO bench_raw (id, tenant_id, title, value) VALUES ($1, $2, $3, $4)', values: [uuidv7(), tenantId, `Bench ${(n += 1)}`, 250_000] }),
      });
    log(`raw pg INSERT ×${concurrency}: warming up for ${WARMUP_S} s`);
    await run(WARMUP_S);
    log(`raw pg INSERT ×${concurrency}: measuring for ${DURATION_S} s`);
    const postmaster = postmasterPidOf(db.pgDataDir);
    const before = await sampleCpu(process.pid, postmaster);
    const result = await run(DURATION_S);
    const after = await sampleCpu(process.pid, postmaster);
    if (result.failed > 0 || result.ok === 0) throw new Error(`raw pg INSERT ×${concurrency}: ${result.failed} failed, ${result.ok} ok`);
    log(`raw pg INSERT ×${concurrency}: ${result.rps.toFixed(0)} inserts/s, p50 ${ms(result.p50_ms)} p99 ${ms(result.p99_ms)} ms`);
    logCpu(`raw pg INSERT ×${concurrency}`, before, after, result);
    results.set(concurrency, result);
  }
  return results;
}

// ─── The figures ─────────────────────────────────────────────────────────────────────────

/**
 * Runs the flow benchmark; returns its JSON lines (flow_3step per concurrency, then the
 * vs-raw lines). Everything it starts is registered on `cleanup`, which the caller runs.
 */
export async function benchFlows(cleanup: Cleanup): Promise<Array<Record<string, unknown>>> {
  const uninstall = installQueryCounter();
  cleanup.add('uninstall the query counter', async () => uninstall());
  const db = await startDatabase(cleanup);
  const dealix = await benchDealix(db, cleanup);
  const dbos = await benchDbos(db, cleanup);
  const raw = await benchRawInsert(db, cleanup);

  const figures: Array<Record<string, unknown>> = [];
  const extras: Array<Record<string, unknown>> = [];
  for (const concurrency of CONCURRENCIES) {
    const d = dealix.get(concurrency);
    const b = dbos.get(concurrency);
    const r = raw.get(concurrency);
    if (!d || !b || !r) throw new Error(`missing results for concurrency ${concurrency}`);
    const ratio = d.measured.load.rps / b.measured.load.rps;
    const p99Step = p(d.measured.stepMs, 99);
    figures.push({
      bench: 'flow_3step',
      concurrency,
      runs_per_s: round(d.measured.load.rps, 1),
      p99_run_ms: round(d.measured.load.p99_ms, 2),
      p99_step_ms: round(p99Step, 2),
      baseline: 'dbos_transact',
      baseline_runs_per_s: round(b.measured.load.rps, 1),
      baseline_p99_run_ms: round(b.measured.load.p99_ms, 2),
      ratio: round(ratio, 3),
      target_ratio: TARGET_RATIO,
      meets_target: ratio >= TARGET_RATIO,
      target_p99_step_ms: TARGET_P99_STEP_MS,
      meets_step_target: p99Step < TARGET_P99_STEP_MS,
      p50_run_ms: round(d.measured.load.p50_ms, 2),
      p99_run_db_ms: round(p(d.runDbMs, 99), 2),
      p99_step_checkpoint_ms: round(p(d.stepCheckpointMs, 99), 2),
      baseline_p50_run_ms: round(b.measured.load.p50_ms, 2),
      baseline_p99_step_ms: round(p(b.measured.stepMs, 99), 2),
      baseline_p99_step_checkpoint_ms: round(p(b.stepCheckpointMs, 99), 2),
      runs: d.measured.load.ok,
      baseline_runs: b.measured.load.ok,
      worker_concurrency: WORKER_CONCURRENCY,
      dbos_version: DBOS_VERSION,
      duration_s: DURATION_S,
    });
    extras.push({
      bench: 'flow_3step_vs_raw_insert',
      concurrency,
      runs_per_s: round(d.measured.load.rps, 1),
      p99_run_ms: round(d.measured.load.p99_ms, 2),
      baseline: 'raw_pg_insert',
      baseline_ops_per_s: round(r.rps, 1),
      baseline_p99_ms: round(r.p99_ms, 2),
      ratio: round(d.measured.load.rps / r.rps, 4),
      dbos_runs_per_s: round(b.measured.load.rps, 1),
      dbos_ratio: round(b.measured.load.rps / r.rps, 4),
      duration_s: DURATION_S,
    });
  }
  return [...figures, ...extras];
}
