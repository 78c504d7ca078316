import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createPool } from '../../src/db/client.ts';
import { sqlstateOf } from '../../src/http/query-error.ts';
import { advanceRun, type FlowEngineDeps } from '../../src/flows/advance-run.ts';
import { cancelFlow, replayDeadLetter, signalFlow, startFlow } from '../../src/flows/flow-commands.ts';
import { defineFlow, FlowRegistry, PermanentStepError, type FlowDefinition } from '../../src/flows/flow-definition.ts';
import { startFlowWorker, type FlowWorker } from '../../src/flows/flow-worker.ts';
import { enqueueAdvance, findRun, listCheckpoints } from '../../src/flows/flows.store.ts';
import { healthRoutes, withFlowWorker } from '../../src/app/health.routes.ts';
import { createLogger } from '../../src/http/logger.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { withTenant } from '../../src/tenancy/with-tenant.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';
import { ZAnyFlowInput } from '../support/flow-input.ts';
import { z } from 'zod';
import { AppError } from '../../src/http/app-error.ts';

/**
 * The flow engine under conditions the happy path never meets: another tenant's run id, a
 * cancel racing a step's checkpoint, compensations with effects, jobs graphile-worker gave
 * up on, and graphile-worker dying under a database that went away.
 */

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

let gate = deferred();
let entered = deferred();
const calls: string[] = [];

const pure = { reason: 'pure', escalate: false };
const flows: Record<string, FlowDefinition> = {
  gated: defineFlow({
    input: ZAnyFlowInput, name: 'gated',
    version: '1',
    steps: [
      {
        name: 'work',
        run: async (ctx) => {
          calls.push(`work:${ctx.runId}`);
          entered.resolve();
          await gate.promise;
          return { state: { worked: true } };
        },
        noCompensation: pure,
      },
      { name: 'then', run: async () => ({ output: { done: true } }), noCompensation: pure },
    ],
  }),
  three: defineFlow({
    input: ZAnyFlowInput, name: 'three',
    version: '1',
    steps: ['a', 'b', 'c'].map((name) => ({ name, run: async () => ({ state: { [name]: true } }), noCompensation: pure })),
  }),
  waiter: defineFlow({
    input: ZAnyFlowInput, name: 'waiter',
    version: '1',
    steps: [
      { name: 'ask', run: async (ctx) => ({ waitFor: { signal: 'answer', timeoutMs: Number(ctx.input.timeoutMs) } }), noCompensation: pure },
      { name: 'use', run: async (ctx) => ({ output: { timedOut: ctx.waitTimedOut } }), noCompensation: pure },
    ],
  }),
  // A compensation naming its effect like its forward step: "hold" the seat, then release the "hold".
  reserver: defineFlow({
    input: ZAnyFlowInput, name: 'reserver',
    version: '1',
    steps: [
      {
        name: 'reserve',
        run: async (ctx) => ({ state: { hold: await ctx.sideEffect('hold', async (key) => (calls.push(`hold:${key}`), { held: true })) } }),
        compensate: async (ctx) => {
          const released = await ctx.sideEffect('hold', async (key) => (calls.push(`release:${key}`), { released: true }));
          calls.push(`release-result:${JSON.stringify(released)}`);
        },
      },
      {
        name: 'pay',
        run: async () => {
          throw new PermanentStepError('card declined');
        },
        noCompensation: { reason: 'nothing was charged', escalate: false },
      },
    ],
  }),
  // A flow that names its input: the engine parses what the run stored before any step sees it.
  typed: defineFlow({
    name: 'typed',
    version: '1',
    input: z.object({ seats: z.number().int().min(1) }),
    steps: [
      { name: 'reserve', run: async (ctx) => (calls.push(`reserve:${ctx.input.seats}`), { state: { held: ctx.input.seats } }), compensate: async (ctx) => void calls.push(`release:${ctx.input.seats}`) },
      { name: 'confirm', run: async () => ({ waitFor: { signal: 'go', timeoutMs: 60_000 } }), noCompensation: pure },
      { name: 'use', run: async (ctx) => (calls.push(`use:${ctx.input.seats}`), { output: { used: ctx.input.seats } }), noCompensation: pure },
    ],
  }),
};
const registry = new FlowRegistry();
for (const flow of Object.values(flows)) registry.register(flow);
const logger = createLogger({ level: 'silent' });

let t: TestApp;
let tenant: TestTenant;
let deps: FlowEngineDeps;
const workers: FlowWorker[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  gate = deferred();
  entered = deferred();
  calls.length = 0;
  t = await createTestApp();
  tenant = await t.createTestTenant('hardening');
  deps = { appPool: t.appPool, registry, logger };
});
afterEach(async () => {
  gate.resolve();
  for (const worker of workers.splice(0)) await worker.stop();
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await t?.close();
});

const tx = <T>(work: Parameters<typeof withTenant<T>>[1], tenantId = tenant.id) => withTenant({ pool: t.appPool, tenantId }, work);
const start = (name: string, input: Record<string, unknown> = {}, tenantId = tenant.id) =>
  tx((x) => startFlow({ tx: x, flow: flows[name] as FlowDefinition, input }), tenantId).then((r) => r.run.id);

/** Cancels the run in a transaction held open until `hold` resolves: the cancel has written, not committed. */
async function cancelHeldOpen(runId: string) {
  const hold = deferred();
  const cancelled = deferred();
  const cancel = tx(async (x) => {
    await cancelFlow({ tx: x, runId });
    cancelled.resolve();
    await hold.promise;
  });
  await cancelled.promise;
  return { hold, cancel };
}

async function until(runId: string, statuses: string[], timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await tx((x) => findRun(x, runId));
    if (run && statuses.includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} is ${run?.status}, expected ${statuses.join('|')}; jobs ${JSON.stringify(await jobsFor(runId))}`);
    await sleep(25);
  }
}

async function untilTrue(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await sleep(20);
  }
}

async function jobsFor(runId: string) {
  const { rows } = await t.superuser.query<{ id: string; key: string | null; payload: { tenantId: string; runId: string }; run_at: Date; attempts: number; max_attempts: number; locked_at: Date | null }>(
    `SELECT id, key, payload, run_at, attempts, max_attempts, locked_at FROM graphile_worker._private_jobs WHERE payload->>'runId' = $1 ORDER BY id`,
    [runId],
  );
  return rows;
}

async function lockWaiters(): Promise<number> {
  const { rows } = await t.superuser.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
  return rows[0]?.n ?? 0;
}

async function startWorker(options: Partial<Parameters<typeof startFlowWorker>[0]> = {}): Promise<FlowWorker> {
  const worker = await startFlowWorker({ appPool: t.appPool, ownerPool: t.ownerPool, registry, logger, concurrency: 2, pollIntervalMs: 100, ...options });
  workers.push(worker);
  return worker;
}

describe('flow input is parsed with its schema (zod at the flow boundary)', () => {
  const corrupt = (runId: string) => t.superuser.query(`UPDATE flow_runs SET input = '{"seats": "many"}' WHERE id = $1`, [runId]);
  const letterOf = async (runId: string) =>
    (await t.superuser.query<{ id: string; step: string; error: { message: string }; escalation: string | null }>('SELECT id, step, error, escalation FROM dead_letters WHERE run_id = $1', [runId])).rows;

  it('a run cannot be started with an input its flow refuses, and none is written', async () => {
    const error = await start('typed', { seats: 0 }).then(() => undefined, (e: unknown) => e);
    expect(String(error)).toMatch(/typed@1: the input does not fit its schema \(seats: /);
    expect((await t.superuser.query(`SELECT count(*)::int AS n FROM flow_runs WHERE flow_name = 'typed'`)).rows[0].n).toBe(0);
  });

  it('a stored input that no longer fits fails the run before any step runs, naming the field', async () => {
    const runId = await start('typed', { seats: 2 });
    await corrupt(runId);
    await advanceRun(deps, { tenantId: tenant.id, runId });
    const run = await tx((x) => findRun(x, runId));
    expect(run?.status).toBe('failed');
    expect(calls).toEqual([]);
    const [letter] = await letterOf(runId);
    expect(letter?.step).toBe('reserve');
    expect(letter?.error.message).toMatch(/stored input does not fit typed@1: seats: /);
  });

  it('after a step with effects, the unfit input leaves its compensation unrun and escalated, and a replay is refused', async () => {
    const runId = await start('typed', { seats: 3 });
    await advanceRun(deps, { tenantId: tenant.id, runId });
    expect((await tx((x) => findRun(x, runId)))?.status).toBe('waiting');
    await corrupt(runId);
    await tx((x) => signalFlow({ tx: x, runId, name: 'go' }));
    await advanceRun(deps, { tenantId: tenant.id, runId });
    expect((await tx((x) => findRun(x, runId)))?.status).toBe('failed');
    // The reservation was made with 3 seats; nobody guesses how many to release.
    expect(calls).toEqual(['reserve:3']);
    const [letter] = await letterOf(runId);
    expect(letter?.escalation).toMatch(/reserve: compensation not run: the stored input does not fit the flow/);
    const checkpoints = await tx((x) => listCheckpoints(x, runId));
    expect(checkpoints.map((c) => `${c.step ?? '-'}:${c.status}`)).toContain('reserve:compensation_failed');

    const replay = await tx((x) => replayDeadLetter({ tx: x, deadLetterId: letter!.id, resolveFlow: (name, version) => registry.get(name, version) })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(replay).toBeInstanceOf(AppError);
    expect((replay as AppError).code).toBe('conflict');
    expect((replay as AppError).message).toMatch(/input does not fit typed@1 \(seats: /);
  });
});

describe('job keys and ownership (item 7)', () => {
  it("a tenant cannot queue another tenant's run, or a run that does not exist; keys name the tenant", async () => {
    const other = await t.createTestTenant('other');
    const theirs = await start('three', {}, other.id);
    const [before] = await jobsFor(theirs);
    expect(before?.key).toBe(`flow:${other.id}:${theirs}`);

    const error = await tx((x) => enqueueAdvance(x, theirs, new Date(Date.now() + 3_600_000))).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(sqlstateOf(error)).toBe('42501');
    const missing = await tx((x) => enqueueAdvance(x, '01900000-0000-7000-8000-000000000000')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(sqlstateOf(missing)).toBe('42501');
    // Their job is untouched: same row, payload and schedule.
    expect(await jobsFor(theirs)).toEqual([before]);
    expect(before?.payload).toEqual({ tenantId: other.id, runId: theirs });

    // The same run id under two tenants' keys cannot collide: the owner's own enqueue still works.
    await withTenant({ pool: t.appPool, tenantId: other.id }, (x) => enqueueAdvance(x, theirs));
    const { rows } = await t.superuser.query<{ key: string }>('SELECT flow_job_key($1, $2) AS key', [other.id, theirs]);
    expect((await jobsFor(theirs)).map((j) => j.key)).toEqual([rows[0]?.key]);
  });
});

describe('checkpoint numbering (item 13)', () => {
  it("a cancel committing while a step finishes leaves the step's checkpoint intact (no 23505)", async () => {
    const runId = await start('gated');
    const advancing = advanceRun(deps, { tenantId: tenant.id, runId });
    await entered.promise;

    // The cancel locks the run and writes its checkpoint, and stays open while the step ends.
    const { hold, cancel } = await cancelHeldOpen(runId);
    gate.resolve();
    // The engine's checkpoint write now waits for the cancel (on the run row after the fix,
    // on the checkpoint's unique index before it).
    await untilTrue('the engine waits on a lock', async () => (await lockWaiters()) >= 1);
    hold.resolve();
    await cancel;
    await advancing;

    const run = await findRunNow(runId);
    expect(run?.status).toBe('cancelled');
    expect(calls.filter((c) => c.startsWith('work:'))).toHaveLength(1);
    const checkpoints = await tx((x) => listCheckpoints(x, runId));
    expect(checkpoints.map((c) => c.seq)).toEqual(checkpoints.map((_, i) => i + 1));
    const history = checkpoints.map((c) => `${c.step ?? '-'}:${c.status}`);
    expect(history).toContain('work:step_completed');
    expect(history.indexOf('-:cancel_requested')).toBeLessThan(history.indexOf('work:step_completed'));
    expect(history.at(-1)).toBe('-:cancelled');
  });
});

const findRunNow = (runId: string) => tx((x) => findRun(x, runId));

describe('a cancel racing a waiting run (found by the unwind crash test)', () => {
  it('a cancel that commits while the engine re-arms a wait is acted on, not pushed out to the timeout', async () => {
    const runId = await start('waiter', { timeoutMs: 60_000 });
    await advanceRun(deps, { tenantId: tenant.id, runId });
    expect((await findRunNow(runId))?.status).toBe('waiting');

    // The cancel holds the run row; the engine reads the run (no cancel yet), then waits for the row.
    const { hold, cancel } = await cancelHeldOpen(runId);
    const advancing = advanceRun(deps, { tenantId: tenant.id, runId });
    await untilTrue('the engine waits for the run row', async () => (await lockWaiters()) >= 1);
    hold.resolve();
    await cancel;
    await advancing;

    // Before: the engine re-armed the timer over the cancel's job and left the run waiting for 60 s.
    expect((await findRunNow(runId))?.status).toBe('cancelled');
  });
});



describe('compensation side-effect keys (item 14)', () => {
  it("a compensation's effect has its own key: it is made, not answered with the forward result", async () => {
    const runId = await start('reserver');
    await advanceRun(deps, { tenantId: tenant.id, runId });
    expect((await findRunNow(runId))?.status).toBe('failed');
    const forward = `${runId}:reserve:hold`;
    expect(calls).toEqual([`hold:${forward}`, `release:compensate:${forward}`, 'release-result:{"released":true}']);
    const { rows } = await t.superuser.query<{ idempotency_key: string; status: string }>('SELECT idempotency_key, status FROM side_effects WHERE run_id = $1 ORDER BY 1', [runId]);
    expect(rows).toEqual([
      { idempotency_key: forward, status: 'done' },
      { idempotency_key: `compensate:${forward}`, status: 'done' },
    ]);
  });
});

describe('periodic recovery sweep (item 15)', () => {
  it('re-queues a pending run whose job graphile-worker gave up on and a waiting run whose job is gone, while the worker runs', async () => {
    // One slot, held by a gated run: jobs queued meanwhile stay unlocked for the test to break.
    await startWorker({ concurrency: 1, recoveryIntervalMs: 100 });
    const blocker = await start('gated');
    await entered.promise;

    const pending = await start('three');
    const dead = await t.superuser.query(
      `UPDATE graphile_worker._private_jobs SET attempts = max_attempts, last_error = 'test: gave up'
        WHERE key = flow_job_key($1, $2) AND locked_at IS NULL`,
      [tenant.id, pending],
    );
    expect(dead.rowCount).toBe(1);

    const waiting = await start('waiter', { timeoutMs: 200 });
    await advanceRun(deps, { tenantId: tenant.id, runId: waiting });
    expect((await findRunNow(waiting))?.status).toBe('waiting');
    const gone = await t.superuser.query('DELETE FROM graphile_worker._private_jobs WHERE key = flow_job_key($1, $2) AND locked_at IS NULL', [tenant.id, waiting]);
    expect(gone.rowCount).toBe(1);

    gate.resolve();
    await until(blocker, ['completed']);
    expect((await until(pending, ['completed'])).output).toEqual({ a: true, b: true, c: true });
    expect((await until(waiting, ['completed'])).output).toEqual({ timedOut: true });
  });

  it('a sweep leaves runs with a live job alone', async () => {
    const queued = await start('three');
    const worker = await startWorker({ concurrency: 1 });
    await until(queued, ['completed']);
    const waiting = await start('waiter', { timeoutMs: 60_000 });
    await until(waiting, ['waiting']);
    // The job that put it to sleep is still finishing (locked, its key handed to the timer's job);
    // until it is deleted the run's job list is in motion whatever the sweep does.
    await untilTrue('only the timer job is left', async () => (await jobsFor(waiting)).every((job) => job.locked_at === null && job.key !== null));
    const before = await jobsFor(waiting);
    expect(before).toHaveLength(1);
    expect(await worker.unsafeSweep()).toBe(0);
    expect(await jobsFor(waiting)).toEqual(before);
  });
});

describe('worker supervision (chaos finding A)', () => {
  it('restarts graphile-worker after it died with the database, reports it down meanwhile, and finishes every run', async () => {
    const proxy: TcpProxy = await startTcpProxy({ port: inject('postgres').port });
    cleanups.push(() => proxy.close());
    const workerPool = createPool({ connectionString: proxy.via(t.database.ownerUrl), max: 5, applicationName: 'dealix-test-worker' });
    const flowPool = createPool({ connectionString: proxy.via(t.database.appUrl), max: 8, applicationName: 'dealix-test-flows' });
    cleanups.push(() => workerPool.end(), () => flowPool.end());
    const worker = await startWorker({ ownerPool: workerPool, appPool: flowPool, restartBackoffMs: { initial: 50, max: 200 } });
    expect(worker.health()).toEqual({ ok: true, detail: 'running' });
    // /readyz as start-server builds it: the database check (up: the test's own pools) plus the worker.
    const health = healthRoutes({ readiness: withFlowWorker(async () => ({ ready: true, checks: { database: { ok: true } } }), () => worker.health()), metrics: createMetrics({ defaultMetrics: false }) });
    const readyz = async () => {
      const response = await health.request('/readyz');
      return { status: response.status, body: (await response.json()) as { status: string; checks: Record<string, { ok: boolean }> } };
    };
    expect((await readyz()).status).toBe(200);

    // A step is in flight when the database goes away: its checkpoint cannot be written, nor
    // can graphile-worker record the job's failure, and graphile-worker's runner ends.
    const inFlight = await start('gated');
    await entered.promise;
    await proxy.down();
    gate.resolve();
    await untilTrue('the worker reports itself down', () => !worker.health().ok);
    const queued = await start('three');
    expect(worker.health().ok).toBe(false);
    const notReady = await readyz();
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({ status: 'not_ready', checks: { database: { ok: true }, flow_worker: { ok: false } } });
    expect((await findRunNow(queued))?.status).toBe('pending');

    await proxy.up();
    expect((await until(inFlight, ['completed'])).output).toEqual({ done: true });
    expect((await until(queued, ['completed'])).output).toEqual({ a: true, b: true, c: true });
    await untilTrue('the worker reports itself up', () => worker.health().ok);
    expect(await readyz()).toMatchObject({ status: 200, body: { status: 'ready', checks: { flow_worker: { ok: true } } } });
  });
});
