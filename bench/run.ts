import { readFileSync } from 'node:fs';
/**
 * `npm run bench`: three figures for Dealix, each printed as one JSON line on stdout
 * (progress goes to stderr). See bench/README.md.
 *
 *   1. deals_list_authenticated — GET /api/v1/deals?limit=50 vs a bare Hono "hello" server
 *   2. deal_create_idempotent   — POST /api/v1/deals with a fresh Idempotency-Key vs raw pg INSERTs
 *   3. idle_rss                 — resident memory of the idle Dealix server process
 *
 * Then two informational lines that compare the same two Dealix runs against baselines doing
 * the same data work without Dealix's layers (the targets above compare against no-work
 * baselines):
 *
 *   4. deals_list_vs_minimal_handler      — vs a minimal Hono + pg handler running the same SELECT
 *   5. deal_create_vs_minimal_transaction — vs the same transaction's statements through plain pg
 *
 * Every server runs as its own child process; the load generator (autocannon, or the pg
 * loops of the raw baselines) runs in this process.
 *
 * Last, once that server is stopped, the flow figures (bench/flows.ts, `BENCH_ONLY=flows`),
 * on an embedded PostgreSQL of their own:
 *
 *   6. flow_3step (per concurrency)               — a 3-step Dealix durable flow vs DBOS Transact
 *   7. flow_3step_vs_raw_insert (per concurrency) — the same runs vs single-row INSERTs (informational)
 *
 * With `os` (bench/os.ts): intent_classifier (in-process, first) and os_process (on the Dealix
 * child) after the server lines; os_process_and_act (on the Dealix child, measured before it
 * stops) printed last, against the DBOS and raw-insert figures of the flow part at concurrency 16.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { uuidv7 } from '../src/db/uuid-v7.ts';
import { dealRowTypes, toDealJson, type DealRow } from './deal-json.ts';
import { runHttpLoad, runQueryLoad, runTransactionLoad, type LoadResult } from './load.ts';
import {
  ACT_CONCURRENCY,
  ACT_DURATION_S,
  ACT_WARMUP_S,
  benchClassifier,
  flowBaselines,
  PROCESS_TEXT,
  processAndActFigure,
  processFigure,
  runProcessAndActLoad,
} from './os.ts';
import {
  Cleanup,
  freePort,
  log,
  makeTempDir,
  postmasterPidOf,
  readRssMb,
  removeDir,
  sampleCpu,
  spawnNode,
  stopChild,
  stopOrphanPostmaster,
  waitForStdout,
  type Child,
  type CpuSample,
} from './processes.ts';
import { envInt, round } from './util.ts';
import { inboundToReplyFigure, prepareWhatsApp, runInboundToReply, runWebhookLoad, WEBHOOK_CONCURRENCY, WEBHOOK_DURATION_S, webhookAckFigure } from './whatsapp.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Knobs, overridable from the environment for quick local runs. */
const CONNECTIONS = envInt('BENCH_CONNECTIONS', 20);
const DURATION_S = envInt('BENCH_DURATION_S', 10);
const WARMUP_S = envInt('BENCH_WARMUP_S', 3);
const IDLE_S = envInt('BENCH_IDLE_S', 5);
/** The Dealix app pool size (DEALIX_DB_POOL_MAX) and the raw baseline's pool size. */
const POOL_SIZE = 10;
const LIST_PAGE = 50;

/** Extra node flags for the Dealix child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (diagnosis). */
/** The Dealix entry point, relative to the repo root (a bundled build can be compared too). */
const DEALIX_ENTRY = process.env.BENCH_DEALIX_ENTRY || 'src/main.ts';
// The server runs with the same Node flags as `npm start` (e.g. the young-generation cap),
// unless BENCH_DEALIX_NODE_ARGS says otherwise.
const START_FLAGS = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }).scripts.start
  .split(/\s+/)
  .filter((token) => token.startsWith('--'));
const DEALIX_NODE_ARGS =
  process.env.BENCH_DEALIX_NODE_ARGS === undefined ? START_FLAGS : process.env.BENCH_DEALIX_NODE_ARGS.split(/\s+/).filter(Boolean);
/** Which figures to run: "list,create,rss,flows" (all, the default) or a subset. */
const KNOWN_FIGURES = ['list', 'create', 'rss', 'os', 'whatsapp', 'flows'];
const ONLY = new Set((process.env.BENCH_ONLY || KNOWN_FIGURES.join(',')).split(',').map((s) => s.trim()).filter(Boolean));

const TARGET_LIST_RATIO = 0.4;
const TARGET_CREATE_RATIO = 0.5;
const TARGET_RSS_MB = 200;

function emit(figure: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

function describe(name: string, result: LoadResult): string {
  return `${name}: ${result.rps.toFixed(0)} ok/s, p50 ${result.p50_ms.toFixed(2)} ms, p99 ${result.p99_ms.toFixed(2)} ms, ${result.ok} ok, ${result.failed} failed, ${result.duration_s.toFixed(1)} s`;
}

function assertClean(name: string, result: LoadResult): void {
  if (result.failed > 0) throw new Error(`${name}: ${result.failed} requests failed (non-2xx or connection errors); the figure would be meaningless`);
  if (result.ok === 0) throw new Error(`${name}: no successful requests`);
}

/** Which processes to account CPU time to during a measured run (diagnosis, on stderr). */
interface CpuProbe {
  serverPid: number;
  pgDataDir?: string;
}

/** Warm-up (discarded), then the measured run, with a CPU-per-operation breakdown on stderr. */
async function measure(
  name: string,
  run: (durationS: number) => Promise<LoadResult>,
  probe: CpuProbe,
  timing: { warmupS: number; durationS: number } = { warmupS: WARMUP_S, durationS: DURATION_S },
): Promise<LoadResult> {
  log(`${name}: warming up for ${timing.warmupS} s`);
  const warm = await run(timing.warmupS);
  assertClean(`${name} (warm-up)`, warm);
  log(`${name}: measuring for ${timing.durationS} s`);
  const postmaster = probe.pgDataDir ? postmasterPidOf(probe.pgDataDir) : undefined;
  const before = await sampleCpu(probe.serverPid, postmaster);
  const result = await run(timing.durationS);
  const after = await sampleCpu(probe.serverPid, postmaster);
  log(describe(name, result));
  const perOp = (key: keyof CpuSample) => (((after[key] - before[key]) * 1000) / Math.max(1, result.ok)).toFixed(3);
  const machine = (100 * (after.machineBusy - before.machineBusy)) / Math.max(0.001, after.machineTotal - before.machineTotal);
  log(
    `${name}: CPU ms per op: server ${perOp('server')}, postgres ${postmaster === undefined ? 'n/a' : perOp('postgres')}, ` +
      `load generator ${perOp('bench')}; machine ${machine.toFixed(0)}% busy over ${os.cpus().length} cores`,
  );
  // CPU the machine spent outside the processes above (kernel threads, and anything else
  // running meanwhile, which skews the comparison on a 2-core machine).
  const accounted = after.server - before.server + (after.postgres - before.postgres) + (after.bench - before.bench);
  const elsewhere = (after.machineBusy - before.machineBusy - accounted) / result.duration_s;
  if (elsewhere > 0.15) {
    log(`${name}: WARNING: ${(100 * elsewhere).toFixed(0)}% of a core went to other processes during this run; figures are noisy`);
  }
  assertClean(name, result);
  return result;
}

interface Dealix {
  child: Child;
  baseUrl: string;
  token: string;
  tenantId: string;
  /** The demo admin's user id (the token's `sub`): the actor of the deals it creates. */
  userId: string;
  pgPort: number;
  dataDir: string;
}

async function startDealix(cleanup: Cleanup): Promise<Dealix> {
  const dataDir = await makeTempDir('dealix-bench-');
  cleanup.add('remove Dealix data dir', () => removeDir(dataDir));
  // Registered before the child: runs after it has stopped, catches a postmaster it left behind.
  cleanup.add('stop orphaned PostgreSQL', () => stopOrphanPostmaster(path.join(dataDir, 'pg')));
  const port = await freePort();
  let pgPort = await freePort();
  while (pgPort === port) pgPort = await freePort();
  log(`starting Dealix (node ${[...DEALIX_NODE_ARGS, DEALIX_ENTRY].join(' ')}) on port ${port}, embedded PostgreSQL on ${pgPort}, data in ${dataDir}`);
  const child = spawnNode({
    name: 'dealix',
    args: [...DEALIX_NODE_ARGS, DEALIX_ENTRY],
    cwd: ROOT,
    env: {
      DEALIX_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      DEALIX_PG_PORT: String(pgPort),
      DEALIX_DB_POOL_MAX: String(POOL_SIZE),
      LOG_LEVEL: 'warn',
      DEALIX_SEED_DEMO: 'true',
      // The flow worker's slots (the product's default is 4); the WhatsApp end-to-end figure depends on it.
      ...(process.env.BENCH_WORKER_CONCURRENCY ? { DEALIX_WORKER_CONCURRENCY: process.env.BENCH_WORKER_CONCURRENCY } : {}),
    },
    echo: (line) => !line.trim().startsWith('eyJ'),
  });
  cleanup.add('stop Dealix', () => stopChild(child, 30_000));
  const token = await waitForStdout(
    child,
    (out) => (out.includes('Dealix is running') ? out.split('\n').map((l) => l.trim()).find((l) => l.startsWith('eyJ')) : undefined),
    120_000,
  );
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { tenant_id?: string; sub?: string };
  if (!payload.tenant_id || !payload.sub) throw new Error('the demo token has no tenant_id or sub');
  log(`Dealix is up (pid ${child.pid})`);
  return { child, baseUrl: `http://127.0.0.1:${port}`, token, tenantId: payload.tenant_id, userId: payload.sub, pgPort, dataDir };
}

/** The PostgreSQL superuser's URL for Dealix's embedded database (password from its secrets file). */
async function superuserUrl(dealix: Dealix): Promise<string> {
  const secrets = JSON.parse(await readFile(path.join(dealix.dataDir, 'secrets.json'), 'utf8')) as { superuserPassword: string };
  return `postgres://postgres:${encodeURIComponent(secrets.superuserPassword)}@127.0.0.1:${dealix.pgPort}/dealix`;
}

const dealixProbe = (dealix: Dealix): CpuProbe => ({ serverPid: dealix.child.pid, pgDataDir: path.join(dealix.dataDir, 'pg') });

async function startBareHono(cleanup: Cleanup): Promise<{ child: Child; baseUrl: string }> {
  const port = await freePort();
  log(`starting bare Hono (node bench/bare-hono.ts) on port ${port}`);
  const child = spawnNode({ name: 'bare-hono', args: ['bench/bare-hono.ts'], cwd: ROOT, env: { PORT: String(port), HOST: '127.0.0.1' } });
  cleanup.add('stop bare Hono', () => stopChild(child, 10_000));
  await waitForStdout(child, (out) => (out.includes('listening') ? true : undefined), 30_000);
  return { child, baseUrl: `http://127.0.0.1:${port}` };
}

/** bench/minimal-pg-hono.ts: `GET /deals` doing the list's data work with plain pg, as superuser. */
async function startMinimalPgHono(dealix: Dealix, cleanup: Cleanup): Promise<{ child: Child; baseUrl: string }> {
  const port = await freePort();
  log(`starting the minimal Hono + pg handler (node bench/minimal-pg-hono.ts) on port ${port}`);
  const child = spawnNode({
    name: 'minimal-pg-hono',
    args: ['bench/minimal-pg-hono.ts'],
    cwd: ROOT,
    env: { PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: await superuserUrl(dealix), TENANT_ID: dealix.tenantId, POOL_MAX: String(POOL_SIZE) },
  });
  cleanup.add('stop the minimal Hono + pg handler', () => stopChild(child, 10_000));
  await waitForStdout(child, (out) => (out.includes('listening') ? true : undefined), 30_000);
  return { child, baseUrl: `http://127.0.0.1:${port}` };
}

async function api<T>(dealix: Dealix, method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> {
  const response = await fetch(`${dealix.baseUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${dealix.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route} answered ${response.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Tops the demo tenant up (through the API) until a page of LIST_PAGE deals is full. */
async function ensureDeals(dealix: Dealix): Promise<string> {
  const page = await api<{ data: Array<{ id: string; contact_id: string }> }>(dealix, 'GET', `/api/v1/deals?limit=${LIST_PAGE}`);
  const missing = LIST_PAGE - page.data.length;
  let contactId = page.data[0]?.contact_id;
  for (let i = 0; i < missing; i += 1) {
    // +966 555 01 xxxx: valid Saudi mobile numbers, outside the seed's +966 555 000 1xx block.
    const contact = await api<{ id: string }>(dealix, 'POST', '/api/v1/contacts', { phone: `+96655501${String(i).padStart(4, '0')}`, name: `Bench contact ${i}` });
    await api(dealix, 'POST', '/api/v1/deals', { contact_id: contact.id, title: `Bench deal ${i}`, value_halalas: 100_000 + i });
    contactId = contact.id;
  }
  const check = await api<{ data: unknown[] }>(dealix, 'GET', `/api/v1/deals?limit=${LIST_PAGE}`);
  if (check.data.length !== LIST_PAGE) throw new Error(`expected a page of ${LIST_PAGE} deals, got ${check.data.length}`);
  if (!contactId) throw new Error('no contact to attach bench deals to');
  log(`demo tenant has a full page of ${LIST_PAGE} deals (${missing > 0 ? `${missing} added` : 'none added'})`);
  return contactId;
}

/** JSON lines printed after the issue's three figures, so those keep their places. */
type Extras = Array<Record<string, unknown>>;

async function benchList(dealix: Dealix, cleanup: Cleanup, extras: Extras): Promise<void> {
  const bare = await startBareHono(cleanup);
  const bareResult = await measure('bare hono GET /', (durationS) =>
    runHttpLoad({ url: `${bare.baseUrl}/`, connections: CONNECTIONS, durationS }),
    { serverPid: bare.child.pid },
  );
  // Stopped before the Dealix run so an idle process does not share the cores.
  await stopChild(bare.child, 10_000);

  const dealixResult = await measure(`dealix GET /api/v1/deals?limit=${LIST_PAGE}`, (durationS) =>
    runHttpLoad({
      url: `${dealix.baseUrl}/api/v1/deals?limit=${LIST_PAGE}`,
      headers: { authorization: `Bearer ${dealix.token}` },
      connections: CONNECTIONS,
      durationS,
    }),
    dealixProbe(dealix),
  );
  const ratio = dealixResult.rps / bareResult.rps;
  emit({
    bench: 'deals_list_authenticated',
    rps: round(dealixResult.rps, 1),
    p99_ms: round(dealixResult.p99_ms, 2),
    baseline: 'bare_hono',
    baseline_rps: round(bareResult.rps, 1),
    baseline_p99_ms: round(bareResult.p99_ms, 2),
    ratio: round(ratio, 3),
    target_ratio: TARGET_LIST_RATIO,
    meets_target: ratio >= TARGET_LIST_RATIO,
    connections: CONNECTIONS,
    duration_s: DURATION_S,
    page_size: LIST_PAGE,
  });

  // Like-for-like: the same SELECT and JSON page without Dealix's layers, measured right
  // after the Dealix run, against the same database state.
  const minimal = await startMinimalPgHono(dealix, cleanup);
  const [dealixPage, minimalPage] = await Promise.all([
    api<unknown>(dealix, 'GET', `/api/v1/deals?limit=${LIST_PAGE}`),
    fetch(`${minimal.baseUrl}/deals`).then((response) => {
      if (!response.ok) throw new Error(`minimal handler GET /deals answered ${response.status}`);
      return response.json();
    }),
  ]);
  if (!isDeepStrictEqual(dealixPage, minimalPage)) {
    throw new Error(`the minimal handler's page differs from Dealix's:\n${JSON.stringify(minimalPage).slice(0, 500)}\n${JSON.stringify(dealixPage).slice(0, 500)}`);
  }
  log('checked: the minimal handler returns the same page as Dealix');
  const minimalResult = await measure('minimal hono + pg GET /deals', (durationS) =>
    runHttpLoad({ url: `${minimal.baseUrl}/deals`, connections: CONNECTIONS, durationS }),
    { serverPid: minimal.child.pid, pgDataDir: path.join(dealix.dataDir, 'pg') },
  );
  await stopChild(minimal.child, 10_000);
  extras.push({
    bench: 'deals_list_vs_minimal_handler',
    rps: round(dealixResult.rps, 1),
    p99_ms: round(dealixResult.p99_ms, 2),
    baseline: 'hono_pg_minimal',
    baseline_rps: round(minimalResult.rps, 1),
    baseline_p99_ms: round(minimalResult.p99_ms, 2),
    ratio: round(dealixResult.rps / minimalResult.rps, 3),
    connections: CONNECTIONS,
    duration_s: DURATION_S,
    page_size: LIST_PAGE,
  });
}

async function benchCreate(dealix: Dealix, contactId: string, cleanup: Cleanup, extras: Extras): Promise<void> {
  const superuser = new pg.Pool({
    connectionString: await superuserUrl(dealix),
    max: POOL_SIZE,
    application_name: 'dealix-bench-raw',
    types: dealRowTypes,
  });
  superuser.on('error', () => undefined);
  cleanup.add('close raw pg pool', () => superuser.end());
  const keysBefore = await countIdempotencyKeys(superuser, dealix.tenantId);

  const body = JSON.stringify({ contact_id: contactId, title: 'Bench deal', value_halalas: 250_000 });
  let created = 0;
  const dealixResult = await measure('dealix POST /api/v1/deals (Idempotency-Key)', async (durationS) => {
    const result = await runHttpLoad({
      url: `${dealix.baseUrl}/api/v1/deals`,
      method: 'POST',
      headers: {
        authorization: `Bearer ${dealix.token}`,
        'content-type': 'application/json',
        'idempotency-key': 'bench-[<id>]',
      },
      body,
      idReplacement: true,
      connections: CONNECTIONS,
      durationS,
    });
    created += result.ok;
    return result;
  }, dealixProbe(dealix));
  // Every 2xx must have been a fresh key (a replay would be a cheap read, not a create): a
  // replay stores no key, so fewer keys than 2xx answers means replays. There may be more:
  // autocannon drops the requests in flight when a run ends (up to one per connection per
  // run), which the server still completes and commits.
  const keysAdded = (await countIdempotencyKeys(superuser, dealix.tenantId)) - keysBefore;
  if (keysAdded < created) throw new Error(`expected at least ${created} new Idempotency-Keys, found ${keysAdded}: some requests were replays`);
  if (keysAdded > created + 2 * CONNECTIONS) throw new Error(`expected at most ${created + 2 * CONNECTIONS} new Idempotency-Keys, found ${keysAdded}`);
  log(`checked: ${keysAdded} distinct Idempotency-Keys stored for ${created} counted creates (+${keysAdded - created} in flight at run ends)`);

  await superuser.query('CREATE TABLE IF NOT EXISTS bench_raw (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, title text NOT NULL, value bigint NOT NULL)');
  let n = 0;
  const rawResult = await measure(`raw pg INSERT (pool ${POOL_SIZE}, ${CONNECTIONS} loops)`, (durationS) =>
    runQueryLoad({
      pool: superuser,
      concurrency: CONNECTIONS,
      durationS,
      next: () => ({
        text: 'INSERT INTO bench_raw (id, tenant_id, title, value) VALUES ($1, $2, $3, $4)',
        values: [uuidv7(), dealix.tenantId, `Bench deal ${(n += 1)}`, 250_000],
      }),
    }),
    dealixProbe(dealix),
  );
  const ratio = dealixResult.rps / rawResult.rps;
  emit({
    bench: 'deal_create_idempotent',
    rps: round(dealixResult.rps, 1),
    p99_ms: round(dealixResult.p99_ms, 2),
    baseline: 'raw_pg_insert',
    baseline_rps: round(rawResult.rps, 1),
    baseline_p99_ms: round(rawResult.p99_ms, 2),
    ratio: round(ratio, 3),
    target_ratio: TARGET_CREATE_RATIO,
    meets_target: ratio >= TARGET_CREATE_RATIO,
    connections: CONNECTIONS,
    duration_s: DURATION_S,
    pool_size: POOL_SIZE,
  });

  const minimalResult = await benchMinimalTransaction(superuser, dealix, contactId);
  extras.push({
    bench: 'deal_create_vs_minimal_transaction',
    rps: round(dealixResult.rps, 1),
    p99_ms: round(dealixResult.p99_ms, 2),
    baseline: 'pg_minimal_transaction',
    baseline_rps: round(minimalResult.rps, 1),
    baseline_p99_ms: round(minimalResult.p99_ms, 2),
    ratio: round(dealixResult.rps / minimalResult.rps, 3),
    connections: CONNECTIONS,
    duration_s: DURATION_S,
    pool_size: POOL_SIZE,
  });
}

/**
 * The data work of one Dealix create without HTTP, auth, validation, RLS or the ORM: one
 * transaction per operation that claims an idempotency key, inserts the deal and its
 * `deal_created` activity (RETURNING the rows, as Dealix does), and stores the response body
 * on the key. The deal and activity tables are copies of Dealix's (same columns, defaults,
 * checks, indexes and foreign keys, no RLS); the key table is the narrower bench_idem.
 */
async function benchMinimalTransaction(superuser: pg.Pool, dealix: Dealix, contactId: string): Promise<LoadResult> {
  await superuser.query(`
    CREATE TABLE bench_idem (key text PRIMARY KEY, body text);
    CREATE TABLE bench_raw_deals (LIKE deals INCLUDING ALL);
    ALTER TABLE bench_raw_deals
      ADD FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
      ADD FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id),
      ADD FOREIGN KEY (tenant_id, owner_user_id) REFERENCES users (tenant_id, id);
    CREATE TABLE bench_raw_activities (LIKE activities INCLUDING ALL);
    ALTER TABLE bench_raw_activities
      ADD FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
      ADD FOREIGN KEY (tenant_id, deal_id) REFERENCES bench_raw_deals (tenant_id, id) ON DELETE CASCADE;
  `);
  let n = 0;
  const result = await measure(`pg minimal create transaction (pool ${POOL_SIZE}, ${CONNECTIONS} loops)`, (durationS) =>
    runTransactionLoad({
      pool: superuser,
      concurrency: CONNECTIONS,
      durationS,
      work: async (client) => {
        const key = `bench-minimal-${(n += 1)}`;
        await client.query('INSERT INTO bench_idem (key, body) VALUES ($1, NULL)', [key]);
        const { rows } = await client.query<DealRow>(
          'INSERT INTO bench_raw_deals (id, tenant_id, contact_id, title, value_halalas) VALUES ($1, $2, $3, $4, $5) RETURNING *',
          [uuidv7(), dealix.tenantId, contactId, 'Bench deal', 250_000],
        );
        const row = rows[0];
        if (!row) throw new Error('INSERT … RETURNING gave no row');
        await client.query(
          "INSERT INTO bench_raw_activities (id, tenant_id, deal_id, type, actor, data, correlation_id) VALUES ($1, $2, $3, 'deal_created', $4, $5, $6) RETURNING *",
          [uuidv7(), dealix.tenantId, row.id, dealix.userId, JSON.stringify({ stage: row.stage, value_halalas: Number(row.value_halalas), title: row.title }), key],
        );
        await client.query('UPDATE bench_idem SET body = $2 WHERE key = $1', [key, JSON.stringify(toDealJson(row))]);
      },
    }),
    dealixProbe(dealix),
  );
  const stored = await superuser.query<{ n: number }>('SELECT count(*)::int AS n FROM bench_idem WHERE body IS NOT NULL');
  const committed = stored.rows[0]?.n ?? 0;
  if (committed < result.ok) throw new Error(`expected at least ${result.ok} committed minimal transactions, found ${committed}`);
  return result;
}

async function countIdempotencyKeys(pool: pg.Pool, tenantId: string): Promise<number> {
  const result = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM idempotency_keys WHERE tenant_id = $1', [tenantId]);
  return result.rows[0]?.n ?? 0;
}

/**
 * The OS figures' HTTP runs against the Dealix child: /os/process vs bare Hono (measured again
 * here, the same way: same connections, warm-up and duration), then /os/process-and-act at 16
 * clients. Returns the os_process line and the process-and-act result (its line needs the
 * flow bench's baselines, which run after this server is stopped).
 */
async function benchOsServer(dealix: Dealix, cleanup: Cleanup): Promise<{ processLine: Record<string, unknown>; act: LoadResult }> {
  const contacts = await api<{ data: Array<{ id: string }> }>(dealix, 'GET', '/api/v1/contacts?limit=1');
  const contactId = contacts.data[0]?.id;
  if (!contactId) throw new Error('the demo tenant has no contact');
  const body = JSON.stringify({ contact_id: contactId, event: { type: 'inbound_message', text: PROCESS_TEXT } });
  const sample = await api<{ intent?: { intent?: string } }>(dealix, 'POST', '/api/v1/os/process', JSON.parse(body));
  log(`os/process sample answer: ${JSON.stringify(sample).slice(0, 300)}`);

  const bare = await startBareHono(cleanup);
  const bareResult = await measure('bare hono GET / (for os/process)', (durationS) =>
    runHttpLoad({ url: `${bare.baseUrl}/`, connections: CONNECTIONS, durationS }),
    { serverPid: bare.child.pid },
  );
  await stopChild(bare.child, 10_000);
  const processResult = await measure('dealix POST /api/v1/os/process', (durationS) =>
    runHttpLoad({
      url: `${dealix.baseUrl}/api/v1/os/process`,
      method: 'POST',
      headers: { authorization: `Bearer ${dealix.token}`, 'content-type': 'application/json' },
      body,
      connections: CONNECTIONS,
      durationS,
    }),
    dealixProbe(dealix),
  );

  const superuser = new pg.Pool({ connectionString: await superuserUrl(dealix), max: 1, application_name: 'dealix-bench-os-check' });
  superuser.on('error', () => undefined);
  cleanup.add('close the os check pool', () => superuser.end());
  const countLeads = async () =>
    (await superuser.query<{ n: number }>("SELECT count(*)::int AS n FROM contacts WHERE tenant_id = $1 AND phone_e164 LIKE '+96658%'", [dealix.tenantId])).rows[0]?.n ?? 0;
  const leadsBefore = await countLeads();
  let acted = 0;
  const act = await measure(`dealix POST /api/v1/os/process-and-act (${ACT_CONCURRENCY} clients, new contact each)`, async (durationS) => {
    const result = await runProcessAndActLoad(dealix.baseUrl, dealix.token, durationS);
    acted += result.ok;
    return result;
  }, dealixProbe(dealix), { warmupS: ACT_WARMUP_S, durationS: ACT_DURATION_S });
  // Every 2xx must have committed a new contact (autocannon may drop a few in flight at a run's end,
  // which the server still commits: more contacts than 2xx answers is fine, fewer is not).
  const leadsAdded = (await countLeads()) - leadsBefore;
  if (leadsAdded < acted) throw new Error(`expected at least ${acted} new contacts from process-and-act, found ${leadsAdded}`);
  log(`checked: ${leadsAdded} new contacts committed for ${acted} counted process-and-act events`);
  return { processLine: processFigure(processResult, bareResult, CONNECTIONS, DURATION_S), act };
}

/**
 * The WhatsApp figures (bench/whatsapp.ts) on the Dealix child: webhook acknowledgements, then
 * inbound → reply end to end through a local fake Green API.
 */
async function benchWhatsApp(dealix: Dealix, cleanup: Cleanup): Promise<{ ack: LoadResult; e2e: { seconds: number; replies: number } }> {
  const { fake, webhookPath } = await prepareWhatsApp(dealix);
  cleanup.add('stop the fake Green API', () => fake.close());
  const ack = await measure(`dealix POST /webhooks/whatsapp/green-api (${WEBHOOK_CONCURRENCY} clients, new message each)`, (durationS) =>
    runWebhookLoad(dealix.baseUrl, webhookPath, durationS), dealixProbe(dealix), { warmupS: 2, durationS: WEBHOOK_DURATION_S });
  // Let the worker drain the acknowledged backlog first: the end-to-end run must not share the
  // machine with it.
  const superuser = new pg.Pool({ connectionString: await superuserUrl(dealix), max: 1, application_name: 'dealix-bench-wa-drain' });
  superuser.on('error', () => undefined);
  cleanup.add('close the drain pool', () => superuser.end());
  const drainStarted = Date.now();
  for (;;) {
    const open = (await superuser.query<{ n: number }>(`SELECT count(*)::int AS n FROM flow_runs WHERE tenant_id = $1 AND status IN ('pending', 'running')`, [dealix.tenantId])).rows[0]?.n ?? 0;
    if (open === 0) break;
    if (Date.now() - drainStarted > 600_000) throw new Error(`${open} flow runs still open after 10 minutes`);
    log(`waiting for the webhook backlog to drain: ${open} runs open`);
    await sleep(2000);
  }
  log(`backlog drained in ${((Date.now() - drainStarted) / 1000).toFixed(1)} s (${fake.requests.length} replies reached the fake so far)`);
  const e2e = await runInboundToReply(dealix.baseUrl, webhookPath, fake);
  return { ack, e2e };
}

/** The server figures: Dealix as a child process, its idle RSS, the list and create runs. */
async function benchServer(cleanup: Cleanup): Promise<{ processLine: Record<string, unknown>; act: LoadResult; whatsapp?: Awaited<ReturnType<typeof benchWhatsApp>> } | undefined> {
  const dealix = await startDealix(cleanup);

  log(`letting the server idle for ${IDLE_S} s before reading its RSS`);
  await sleep(IDLE_S * 1000);
  const idleRssMb = await readRssMb(dealix.child.pid);
  log(`idle RSS of pid ${dealix.child.pid}: ${idleRssMb.toFixed(1)} MB`);

  const contactId = await ensureDeals(dealix);
  const extras: Extras = [];
  if (ONLY.has('list')) await benchList(dealix, cleanup, extras);
  if (ONLY.has('create')) await benchCreate(dealix, contactId, cleanup, extras);
  const osFigures = ONLY.has('os') ? await benchOsServer(dealix, cleanup) : undefined;
  const whatsappFigures = ONLY.has('whatsapp') ? await benchWhatsApp(dealix, cleanup) : undefined;

  const afterLoadRssMb = await readRssMb(dealix.child.pid);
  if (ONLY.has('rss')) emit({
    bench: 'idle_rss',
    rss_mb: round(idleRssMb, 1),
    target_mb: TARGET_RSS_MB,
    meets_target: idleRssMb < TARGET_RSS_MB,
    idle_s: IDLE_S,
    process: `node ${[...DEALIX_NODE_ARGS, DEALIX_ENTRY].join(' ')} (PostgreSQL excluded)`,
    rss_after_load_mb: round(afterLoadRssMb, 1),
  });
  for (const figure of extras) emit(figure);
  if (whatsappFigures) {
    emit(webhookAckFigure(whatsappFigures.ack));
    emit(inboundToReplyFigure(whatsappFigures.e2e, osFigures?.act.rps));
  }
  return osFigures;
}

async function main(): Promise<void> {
  const unknown = [...ONLY].filter((name) => !KNOWN_FIGURES.includes(name));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown figure(s) ${unknown.join(', ')}; known: ${KNOWN_FIGURES.join(', ')}`);
  // One teardown per part: the server part is torn down (Dealix stopped) before the flow
  // part starts its own PostgreSQL, so the two never share the machine.
  const serverCleanup = new Cleanup();
  const flowCleanup = new Cleanup();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: cleaning up`);
    void serverCleanup
      .run()
      .then(() => flowCleanup.run())
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const started = Date.now();
  try {
    // In-process and single-threaded, before any child starts, so nothing shares its core.
    const classifierLine = ONLY.has('os') ? benchClassifier() : undefined;
    let osFigures: Awaited<ReturnType<typeof benchServer>>;
    if (ONLY.has('list') || ONLY.has('create') || ONLY.has('rss') || ONLY.has('os') || ONLY.has('whatsapp')) {
      try {
        osFigures = await benchServer(serverCleanup);
      } finally {
        await serverCleanup.run();
      }
    }
    if (classifierLine) emit(classifierLine);
    if (osFigures) emit(osFigures.processLine);
    let flowLines: Array<Record<string, unknown>> | undefined;
    if (ONLY.has('flows')) {
      // Imported only when asked for: it loads DBOS Transact (a devDependency).
      const { benchFlows } = await import('./flows.ts');
      let lines: Array<Record<string, unknown>>;
      try {
        lines = await benchFlows(flowCleanup);
      } finally {
        await flowCleanup.run();
      }
      for (const figure of lines) emit(figure);
      flowLines = lines;
    }
    // Last: it needs the DBOS and raw-insert figures the flow bench measured in this run.
    if (osFigures) emit(processAndActFigure(osFigures.act, flowBaselines(flowLines)));
  } finally {
    log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
}

try {
  await main();
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
