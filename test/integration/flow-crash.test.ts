import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { advanceRun } from '../../src/flows/advance-run.ts';
import type { FaultPoint } from '../../src/config/fault-points.ts';
import { cancelFlow, signalFlow, startFlow } from '../../src/flows/flow-commands.ts';
import { FlowRegistry } from '../../src/flows/flow-definition.ts';
import { findRun, listCheckpoints, type FlowRunRow } from '../../src/flows/flows.store.ts';
import { createLogger } from '../../src/http/logger.ts';
import { withTenant } from '../../src/tenancy/with-tenant.ts';
import { compensationProbeFlow, crashProbeFlow } from '../support/crash-probe-flow.ts';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

/**
 * Crash tests of the flow engine: a worker in a child process (test/support/flow-crash-child.ts)
 * SIGKILLs itself at a named fault point; a fresh worker is started in its place and must
 * finish the run from its checkpoints, calling the outside world once per side effect (or
 * again with the same idempotency key, which the provider deduplicates).
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const CHILD = 'test/support/flow-crash-child.ts';
const READY_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// A fake external provider that honours idempotency keys
// ---------------------------------------------------------------------------------------------

interface EffectRequest {
  key: string;
  body: { runId?: string; what?: string };
  applied: boolean;
}

/** Records every POST /effects; applies an effect once per `idempotency-key`, like a real provider. */
class FakeProvider {
  readonly requests: EffectRequest[] = [];
  readonly #applied = new Set<string>();
  readonly #server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const key = req.headers['idempotency-key'];
      if (req.method !== 'POST' || req.url !== '/effects' || typeof key !== 'string' || !key) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'bad request' }));
        return;
      }
      const applied = !this.#applied.has(key);
      this.#applied.add(key);
      this.requests.push({ key, body: raw ? (JSON.parse(raw) as EffectRequest['body']) : {}, applied });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ applied, key }));
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  requestsFor(key: string): number {
    return this.requests.filter((r) => r.key === key).length;
  }

  appliedFor(key: string): number {
    return this.requests.filter((r) => r.key === key && r.applied).length;
  }
}

// ---------------------------------------------------------------------------------------------
// The worker child process
// ---------------------------------------------------------------------------------------------

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const live = new Set<WorkerChild>();

class WorkerChild {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  exitInfo: ExitInfo | undefined;
  readonly exited: Promise<ExitInfo>;
  readonly spawnedAt = Date.now();

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [CHILD], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    // The child exits when its stdin closes; a write to it after it died must not throw.
    this.child.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
    live.add(this);
    void this.exited.then(() => live.delete(this));
  }

  /** Waits for "worker ready" and returns how many runs its start-up recovery re-queued. */
  async ready(): Promise<{ recovered: number; ms: number }> {
    const deadline = Date.now() + READY_MS;
    for (;;) {
      const match = /worker ready recovered=(\d+)/.exec(this.stdout);
      if (match) return { recovered: Number(match[1]), ms: Date.now() - this.spawnedAt };
      if (this.exitInfo) throw new Error(`worker exited ${JSON.stringify(this.exitInfo)} before it was ready:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`worker not ready after ${READY_MS} ms:\n${this.stdout}\n${this.stderr}`);
      await sleep(20);
    }
  }

  async waitExit(timeoutMs: number): Promise<ExitInfo> {
    const timer = sleep(timeoutMs).then(() => undefined);
    const result = await Promise.race([this.exited, timer]);
    if (!result) throw new Error(`worker still alive after ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`);
    return result;
  }

  async kill(): Promise<void> {
    if (this.exitInfo) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const fake = new FakeProvider();
let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  await fake.start();
});
afterAll(async () => {
  await Promise.all([...live].map((child) => child.kill()));
  await fake.stop();
});

// Each scenario gets its own database (a template clone: milliseconds), so a run or a
// locked graphile-worker job left by one scenario cannot be picked up by the next.
beforeEach(async () => {
  t = await createTestApp({ poolMax: 5 });
  tenant = await t.createTestTenant('crash');
});
afterEach(async () => {
  await Promise.all([...live].map((child) => child.kill()));
  await t?.close();
});

function spawnWorker(faultPoint?: FaultPoint): WorkerChild {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  delete env.FAULT_POINT;
  delete env.DEALIX_FAULT_POINT;
  Object.assign(env, { APP_DB_URL: t.database.appUrl, OWNER_DB_URL: t.database.ownerUrl, FAKE_URL: fake.url, LOG_LEVEL: process.env.CRASH_LOG_LEVEL ?? 'warn' });
  if (faultPoint) env.FAULT_POINT = faultPoint;
  return new WorkerChild(env);
}

const tx = <T>(work: Parameters<typeof withTenant<T>>[1]) => withTenant({ pool: t.appPool, tenantId: tenant.id }, work);

async function startRuns(count: number): Promise<string[]> {
  return tx(async (x) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const { run } = await startFlow({ tx: x, flow: crashProbeFlow, input: { fakeUrl: fake.url } });
      ids.push(run.id);
    }
    return ids;
  });
}

async function until(runId: string, statuses: string[], timeoutMs = 10_000): Promise<FlowRunRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await tx((x) => findRun(x, runId));
    if (run && statuses.includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} is ${run?.status}, expected ${statuses.join('|')}\n${await diagnose(runId)}`);
    await sleep(25);
  }
}

/** What a stuck run looks like, for the failure message. */
async function diagnose(runId: string): Promise<string> {
  const locks = await t.superuser.query(
    `SELECT l.pid, l.granted, a.application_name, a.state FROM pg_locks l JOIN pg_stat_activity a USING (pid)
     WHERE l.locktype = 'advisory' AND a.datname = current_database()`,
  );
  const signals = await t.superuser.query('SELECT name, consumed_at FROM flow_signals WHERE run_id = $1', [runId]);
  return JSON.stringify(
    {
      history: await history(runId),
      jobs: await jobsFor(runId),
      signals: signals.rows,
      advisoryLocks: locks.rows,
      workers: [...live].map((w) => ({ pid: w.child.pid, stdout: w.stdout, stderr: w.stderr.slice(-4000) })),
    },
    null,
    1,
  );
}

const signal = (runId: string, payload: unknown = { ok: true }) => tx((x) => signalFlow({ tx: x, runId, name: 'go', payload }));
const history = async (runId: string) => (await tx((x) => listCheckpoints(x, runId))).map((c) => `${c.step ?? '-'}:${c.status}`);
const chargeKey = (runId: string) => `${runId}:call:charge`;
const receiptKey = (runId: string) => `${runId}:after:receipt`;

/** The side_effects rows of a run, read past RLS. */
async function sideEffects(runId: string): Promise<Record<string, { status: string; attempts: number; result: unknown }>> {
  const { rows } = await t.superuser.query<{ idempotency_key: string; status: string; attempts: number; result: unknown }>(
    'SELECT idempotency_key, status, attempts, result FROM side_effects WHERE run_id = $1',
    [runId],
  );
  return Object.fromEntries(rows.map((r) => [r.idempotency_key, { status: r.status, attempts: r.attempts, result: r.result }]));
}

/** graphile-worker's jobs for a run (its job payload names the run). */
async function jobsFor(runId: string) {
  const { rows } = await t.superuser.query<{ id: string; key: string | null; locked_at: Date | null; locked_by: string | null; attempts: number; max_attempts: number; run_at: Date; last_error: string | null }>(
    `SELECT id, key, locked_at, locked_by, attempts, max_attempts, run_at, last_error FROM graphile_worker._private_jobs WHERE payload->>'runId' = $1 ORDER BY id`,
    [runId],
  );
  return rows;
}

async function unconsumedSignals(runId: string): Promise<number> {
  const { rows } = await t.superuser.query<{ n: number }>('SELECT count(*)::int AS n FROM flow_signals WHERE run_id = $1 AND consumed_at IS NULL', [runId]);
  return rows[0]?.n ?? 0;
}

/** Every effect of a completed run reached the provider's ledger exactly once, and is recorded done. */
async function expectEffectsOnce(runId: string) {
  expect(fake.appliedFor(chargeKey(runId))).toBe(1);
  expect(fake.appliedFor(receiptKey(runId))).toBe(1);
  expect(fake.requestsFor(receiptKey(runId))).toBe(1);
  // No other keys for this run (e.g. a second charge under a fresh key).
  expect(new Set(fake.requests.filter((r) => r.body.runId === runId).map((r) => r.key))).toEqual(new Set([chargeKey(runId), receiptKey(runId)]));
  const rows = await sideEffects(runId);
  expect(Object.keys(rows).sort()).toEqual([chargeKey(runId), receiptKey(runId)].sort());
  expect(rows[chargeKey(runId)]?.status).toBe('done');
  expect(rows[receiptKey(runId)]?.status).toBe('done');
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

describe('flow engine crash recovery (worker SIGKILLed at fault points)', () => {
  it('before_side_effect: the recorded effect is made once after restart, by a second attempt of the step', async () => {
    const [runId] = (await startRuns(1)) as [string];
    const doomed = spawnWorker('before_side_effect');
    await doomed.ready();
    expect(await doomed.waitExit(10_000)).toEqual({ code: null, signal: 'SIGKILL' });

    // Died between recording the effect and calling out: recorded, not made.
    expect((await tx((x) => findRun(x, runId)))?.status).toBe('running');
    expect(await sideEffects(runId)).toEqual({ [chargeKey(runId)]: { status: 'recorded', attempts: 1, result: null } });
    expect(fake.requestsFor(chargeKey(runId))).toBe(0);

    const worker = spawnWorker();
    expect((await worker.ready()).recovered).toBe(1);
    await until(runId, ['waiting']);
    await signal(runId, { approved: true });
    const run = await until(runId, ['completed']);

    expect(run.output).toEqual({
      charge: { applied: true, key: chargeKey(runId) },
      receipt: { applied: true, key: receiptKey(runId) },
      signal: { name: 'go', payload: { approved: true } },
    });
    expect(fake.requestsFor(chargeKey(runId))).toBeGreaterThanOrEqual(1);
    await expectEffectsOnce(runId);
    expect((await sideEffects(runId))[chargeKey(runId)]?.attempts).toBe(2);
    const h = await history(runId);
    expect(h.filter((c) => c === 'call:step_started')).toHaveLength(2);
    expect(h.filter((c) => c === 'prepare:step_started')).toHaveLength(1);
    const notes = (await tx((x) => listCheckpoints(x, runId))).filter((c) => c.step === 'call' && c.status === 'step_started').map((c) => c.note);
    expect(notes).toEqual(['attempt 1', 'attempt 2']);
    expect(h.at(-1)).toBe('-:completed');
  });

  it('after_side_effect: the step re-runs and calls again with the same key; the provider applies it once', async () => {
    const [runId] = (await startRuns(1)) as [string];
    const doomed = spawnWorker('after_side_effect');
    await doomed.ready();
    expect(await doomed.waitExit(10_000)).toEqual({ code: null, signal: 'SIGKILL' });

    // The call was made and applied; its result never reached the database.
    expect(fake.requestsFor(chargeKey(runId))).toBe(1);
    expect(fake.appliedFor(chargeKey(runId))).toBe(1);
    expect((await sideEffects(runId))[chargeKey(runId)]).toMatchObject({ status: 'recorded', result: null });

    const worker = spawnWorker();
    expect((await worker.ready()).recovered).toBe(1);
    await until(runId, ['waiting']);
    expect(fake.requestsFor(chargeKey(runId))).toBe(2);
    expect(fake.appliedFor(chargeKey(runId))).toBe(1);
    await signal(runId);
    await until(runId, ['completed']);

    await expectEffectsOnce(runId);
    // The second call's answer (a deduplicated replay) is what the run kept.
    expect((await sideEffects(runId))[chargeKey(runId)]).toMatchObject({ attempts: 2, result: { applied: false, key: chargeKey(runId) } });
    expect((await history(runId)).filter((c) => c === 'call:step_started')).toHaveLength(2);
  });

  it('while_waiting: a signal sent while no worker runs stays in the inbox and is consumed after restart', async () => {
    const [runId] = (await startRuns(1)) as [string];
    const doomed = spawnWorker('while_waiting');
    await doomed.ready();
    expect(await doomed.waitExit(10_000)).toEqual({ code: null, signal: 'SIGKILL' });
    expect((await tx((x) => findRun(x, runId)))?.status).toBe('waiting');
    expect(fake.requestsFor(chargeKey(runId))).toBe(1);

    // No worker is running: the signal must wait in the inbox.
    await signal(runId, { late: true });
    await sleep(300);
    expect(await unconsumedSignals(runId)).toBe(1);
    expect((await tx((x) => findRun(x, runId)))?.status).toBe('waiting');

    const worker = spawnWorker();
    // A waiting run is not "incomplete work" for recovery; the signal's own job wakes it.
    expect((await worker.ready()).recovered).toBe(0);
    const run = await until(runId, ['completed']);
    expect((run.output as { signal: unknown }).signal).toEqual({ name: 'go', payload: { late: true } });
    expect(await unconsumedSignals(runId)).toBe(0);
    await expectEffectsOnce(runId);
    expect(fake.requestsFor(chargeKey(runId))).toBe(1);
    // Nothing ran twice: the crash came after the step was checkpointed.
    const h = await history(runId);
    expect(h.filter((c) => c === 'call:step_started')).toHaveLength(1);
    expect(h).toContain('-:signal_received');
  });

  it('a signal sent while the worker is cleanly stopped (SIGTERM) is delivered after restart', async () => {
    const [runId] = (await startRuns(1)) as [string];
    const first = spawnWorker();
    await first.ready();
    await until(runId, ['waiting']);
    first.child.kill('SIGTERM');
    expect(await first.waitExit(10_000)).toEqual({ code: 0, signal: null });

    await signal(runId, { after: 'sigterm' });
    await sleep(300);
    expect(await unconsumedSignals(runId)).toBe(1);
    expect((await tx((x) => findRun(x, runId)))?.status).toBe('waiting');

    const second = spawnWorker();
    await second.ready();
    const run = await until(runId, ['completed']);
    expect((run.output as { signal: unknown }).signal).toEqual({ name: 'go', payload: { after: 'sigterm' } });
    await expectEffectsOnce(runId);
    expect(fake.requestsFor(chargeKey(runId))).toBe(1);
  });

  it('re-queues runs a killed worker left running at once, although its job locks are still held', async () => {
    const runIds = await startRuns(3);
    const doomed = spawnWorker('before_side_effect');
    await doomed.ready();
    expect(await doomed.waitExit(10_000)).toEqual({ code: null, signal: 'SIGKILL' });
    // Any run that reached the fault killed the process, so no charge was made at all.
    expect(fake.requests.filter((r) => runIds.includes(r.body.runId ?? ''))).toHaveLength(0);

    // At least one run was mid-step: 'running', with its graphile-worker job still locked by
    // the dead worker (graphile-worker only frees such a lock after 4 hours).
    const strandedLocks = new Map<string, string>();
    for (const runId of runIds) {
      const run = await tx((x) => findRun(x, runId));
      if (run?.status !== 'running') continue;
      const locked = (await jobsFor(runId)).find((job) => job.locked_at !== null);
      if (locked) strandedLocks.set(runId, locked.id);
    }
    expect(strandedLocks.size).toBeGreaterThanOrEqual(1);

    const worker = spawnWorker();
    const { recovered } = await worker.ready();
    expect(recovered).toBeGreaterThanOrEqual(strandedLocks.size);
    for (const runId of runIds) await until(runId, ['waiting']);

    // The stranded jobs are still locked by the dead worker: the runs moved on through the
    // jobs recovery queued, not because a lock expired.
    for (const [runId, jobId] of strandedLocks) {
      const stale = (await jobsFor(runId)).find((job) => job.id === jobId);
      expect(stale?.locked_at).not.toBeNull();
      // add_job cleared its key and spent its attempts, so it will not run again when the lock expires.
      expect(stale?.key).toBeNull();
      expect(stale?.attempts).toBe(stale?.max_attempts);
    }

    for (const runId of runIds) await signal(runId);
    for (const runId of runIds) {
      await until(runId, ['completed']);
      await expectEffectsOnce(runId);
      expect(fake.requestsFor(chargeKey(runId))).toBe(1);
    }
  });

  it('a waiting run whose wake-up job died with its worker still takes its signal after restart', async () => {
    const [runId] = (await startRuns(1)) as [string];
    const first = spawnWorker();
    await first.ready();
    await until(runId, ['waiting']);
    first.child.kill('SIGTERM');
    expect(await first.waitExit(10_000)).toEqual({ code: 0, signal: null });
    await signal(runId, { wake: 1 });

    // Hold the run's advisory lock so the next worker takes the wake-up job and then blocks
    // inside advanceRun, before it can consume the signal; kill it there.
    const blocker = await t.appPool.connect();
    try {
      await blocker.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`flow:${runId}`]);
      const doomed = spawnWorker();
      await doomed.ready();
      // Blocked = one of its connections waits for that advisory lock, and the run's keyed job is locked.
      const deadline = Date.now() + 5_000;
      for (;;) {
        const waiting = await t.superuser.query(
          `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
           WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = 'dealix-crash-child' AND a.datname = current_database()`,
        );
        const taken = (await jobsFor(runId)).some((job) => job.key !== null && job.locked_at !== null);
        if (waiting.rowCount && taken) break;
        if (Date.now() > deadline) throw new Error(`the worker never took the wake-up job\n${await diagnose(runId)}`);
        await sleep(25);
      }
      await doomed.kill();
      await blocker.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`flow:${runId}`]);
    } finally {
      blocker.release();
    }
    // The dead worker took the run's only job (the signal turned the timer job into it).
    expect((await tx((x) => findRun(x, runId)))?.status).toBe('waiting');
    expect(await unconsumedSignals(runId)).toBe(1);
    // Its only job with the run's key is the one the dead worker holds: no timer job is left.
    const keyed = (await jobsFor(runId)).filter((job) => job.key !== null);
    expect(keyed, await diagnose(runId)).toHaveLength(1);
    expect(keyed[0]?.locked_at).not.toBeNull();

    const worker = spawnWorker();
    await worker.ready();
    const run = await until(runId, ['completed'], 8_000);
    expect((run.output as { signal: unknown }).signal).toEqual({ name: 'go', payload: { wake: 1 } });
    await expectEffectsOnce(runId);
  });
});

describe('unwind crash recovery (worker SIGKILLed between two compensations)', () => {
  it('after_compensation: a restarted unwind compensates each step once, under keys of its own', async () => {
    const runId = await tx(async (x) => (await startFlow({ tx: x, flow: compensationProbeFlow, input: { fakeUrl: fake.url } })).run.id);
    const doomed = spawnWorker('after_compensation');
    await doomed.ready();
    await until(runId, ['waiting']);
    await tx((x) => cancelFlow({ tx: x, runId }));
    expect(await doomed.waitExit(10_000)).toEqual({ code: null, signal: 'SIGKILL' });

    // Died after compensating 'book' (the last completed step with a compensation), before 'reserve'.
    const key = (step: string, effect: string) => `${runId}:${step}:${effect}`;
    expect(await history(runId)).toContain('book:compensated');
    expect(await history(runId)).not.toContain('reserve:compensated');
    expect(fake.requestsFor(`compensate:${key('book', 'seat')}`)).toBe(1);

    // Its job is left locked by the dead worker (start-up recovery re-queues it) or, when the
    // other slot had not taken it yet, waits unlocked: either way the run moves on now.
    const worker = spawnWorker();
    await worker.ready();
    await until(runId, ['cancelled']);

    const h = await history(runId);
    expect(h.filter((c) => c === 'book:compensated')).toHaveLength(1);
    expect(h.filter((c) => c === 'reserve:compensated')).toHaveLength(1);
    expect(h.filter((c) => c === 'ask:not_compensable')).toHaveLength(1);
    expect(h.at(-1)).toBe('-:cancelled');
    // Each effect, forward and compensating, reached the provider once, under its own key.
    for (const k of [key('reserve', 'hold'), key('book', 'seat'), `compensate:${key('book', 'seat')}`, `compensate:${key('reserve', 'hold')}`]) {
      expect(fake.requestsFor(k), k).toBe(1);
    }
    expect(fake.requests.filter((r) => r.body.runId === runId).map((r) => r.body.what)).toEqual(['hold', 'book', 'unbook', 'release']);
  });
});

describe('signal delivery race (no crash)', () => {
  /** Sessions of this database blocked on a lock (row, tuple or advisory). */
  async function lockWaiters(): Promise<number> {
    const { rows } = await t.superuser.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    return rows[0]?.n ?? 0;
  }
  async function untilLockWaiters(n: number) {
    const deadline = Date.now() + 5_000;
    while ((await lockWaiters()) < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} sessions waiting on a lock`);
      await sleep(10);
    }
  }

  it('a signal that commits while the waiting run re-arms its timer still wakes it (no lost wake-up)', async () => {
    const registry = new FlowRegistry();
    registry.register(crashProbeFlow);
    const deps = { appPool: t.appPool, registry, logger: createLogger({ level: 'silent' }) };
    const [runId] = (await startRuns(1)) as [string];
    // No worker: advance in-process up to the wait.
    await advanceRun(deps, { tenantId: tenant.id, runId });
    expect((await tx((x) => findRun(x, runId)))?.status).toBe('waiting');

    // Force the interleaving: the signal's transaction inserts its signal and then queues the
    // run's job; the worker's advance checks the inbox (the signal is not committed yet) and
    // re-arms the wait timer on the same job. Holding the job row makes both queue up behind
    // us, signal first.
    const holder = await t.superuser.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM graphile_worker._private_jobs WHERE key = flow_job_key($1, $2) FOR UPDATE', [tenant.id, runId]);
      const signalled = signal(runId, { raced: true });
      await untilLockWaiters(1);
      const advanced = advanceRun(deps, { tenantId: tenant.id, runId });
      await untilLockWaiters(2);
      await holder.query('COMMIT');
      await Promise.all([signalled, advanced]);
    } finally {
      holder.release();
    }

    // The advance waited for the signal's commit and took it, instead of pushing the run's
    // only job back to the 60 s timeout with the signal unread.
    const run = await tx((x) => findRun(x, runId));
    expect(run?.status, await diagnose(runId)).toBe('completed');
    expect((run?.output as { signal: unknown }).signal).toEqual({ name: 'go', payload: { raced: true } });
    expect(await unconsumedSignals(runId)).toBe(0);
    await expectEffectsOnce(runId);
  });
});
