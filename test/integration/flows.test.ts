import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceRun } from '../../src/flows/advance-run.ts';
import { cancelFlow, replayDeadLetter, resumeFlow, signalFlow, startFlow } from '../../src/flows/flow-commands.ts';
import { defineFlow, FlowRegistry, type FlowDefinition } from '../../src/flows/flow-definition.ts';
import { startFlowWorker, type FlowWorker } from '../../src/flows/flow-worker.ts';
import { findRun, listCheckpoints } from '../../src/flows/flows.store.ts';
import { createLogger } from '../../src/http/logger.ts';
import { withTenant } from '../../src/tenancy/with-tenant.ts';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';
import { ZAnyFlowInput } from '../support/flow-input.ts';

let t: TestApp;
let tenant: TestTenant;
let worker: FlowWorker;
const registry = new FlowRegistry();
const calls: string[] = [];
const effects = new Map<string, number>();
let flaky = 0;
let healthy = false;

const fast = { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 50 };
const flows: Record<string, FlowDefinition> = {
  three: defineFlow({
    input: ZAnyFlowInput, name: 'three',
    version: '1',
    steps: [
      { name: 'a', run: async () => ({ state: { a: 1 } }), noCompensation: { reason: 'pure', escalate: false } },
      { name: 'b', run: async (ctx) => ({ state: { b: (ctx.state.a as number) + 1 } }), noCompensation: { reason: 'pure', escalate: false } },
      { name: 'c', run: async (ctx) => ({ output: { sum: (ctx.state.a as number) + (ctx.state.b as number) } }), noCompensation: { reason: 'pure', escalate: false } },
    ],
  }),
  flaky: defineFlow({
    input: ZAnyFlowInput, name: 'flaky',
    version: '1',
    steps: [
      {
        name: 'wobble',
        retry: fast,
        run: async () => {
          flaky += 1;
          if (flaky < 3) throw new Error(`wobble ${flaky}`);
        },
        noCompensation: { reason: 'pure', escalate: false },
      },
    ],
  }),
  doomed: defineFlow({
    input: ZAnyFlowInput, name: 'doomed',
    version: '1',
    steps: [
      {
        name: 'reserve',
        run: async (ctx) => {
          calls.push(`reserve:${ctx.runId}`);
        },
        compensate: async (ctx) => {
          calls.push(`release:${ctx.runId}`);
        },
      },
      {
        name: 'notify',
        run: async (ctx) => {
          await ctx.sideEffect('email', async (key) => effects.set(key, (effects.get(key) ?? 0) + 1));
        },
        noCompensation: { reason: 'an email cannot be unsent', escalate: true },
      },
      {
        name: 'charge',
        retry: fast,
        run: async () => {
          if (!healthy) throw new Error('payment provider down');
        },
        noCompensation: { reason: 'failed before charging', escalate: false },
      },
    ],
  }),
  waiter: defineFlow({
    input: ZAnyFlowInput, name: 'waiter',
    version: '1',
    steps: [
      { name: 'ask', run: async (ctx) => ({ waitFor: { signal: 'answer', timeoutMs: Number(ctx.input.timeoutMs ?? 30_000) } }), noCompensation: { reason: 'pure', escalate: false } },
      {
        name: 'use',
        run: async (ctx) => ({ output: { got: ctx.signal?.payload ?? null, timedOut: ctx.waitTimedOut } }),
        noCompensation: { reason: 'pure', escalate: false },
      },
    ],
  }),
  sleeper: defineFlow({
    input: ZAnyFlowInput, name: 'sleeper',
    version: '1',
    steps: [
      { name: 'nap', run: async () => ({ sleepUntil: new Date(Date.now() + 300) }), noCompensation: { reason: 'pure', escalate: false } },
      { name: 'wake', run: async () => ({ output: { woke: Date.now() } }), noCompensation: { reason: 'pure', escalate: false } },
    ],
  }),
  counter: defineFlow({
    input: ZAnyFlowInput, name: 'counter',
    version: '1',
    steps: ['s1', 's2', 's3'].map((name) => ({
      name,
      run: async (ctx) => {
        calls.push(`${ctx.runId}:${name}`);
        await sleep(5);
      },
      noCompensation: { reason: 'pure', escalate: false },
    })),
  }),
};
for (const flow of Object.values(flows)) registry.register(flow);

const logger = createLogger({ level: 'silent' });

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTestTenant('flows');
  worker = await startFlowWorker({ appPool: t.appPool, ownerPool: t.ownerPool, registry, logger, concurrency: 4, pollIntervalMs: 200 });
});
afterAll(async () => {
  await worker?.stop();
  await t?.close();
});

const tx = <T>(work: Parameters<typeof withTenant<T>>[1]) => withTenant({ pool: t.appPool, tenantId: tenant.id }, work);
const start = (name: string, input: Record<string, unknown> = {}) => tx((x) => startFlow({ tx: x, flow: flows[name] as FlowDefinition, input })).then((r) => r.run.id);
async function until(runId: string, statuses: string[], timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await tx((x) => findRun(x, runId));
    if (run && statuses.includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} is ${run?.status}, expected ${statuses.join('|')}`);
    await sleep(25);
  }
}
const history = async (runId: string) => (await tx((x) => listCheckpoints(x, runId))).map((c) => `${c.step ?? '-'}:${c.status}`);

describe('durable flows', () => {
  it('runs steps in order, checkpointing state, to completion', async () => {
    const runId = await start('three');
    const run = await until(runId, ['completed']);
    expect(run.output).toEqual({ sum: 3 });
    expect(await history(runId)).toEqual([
      '-:started', 'a:step_started', 'a:step_completed', 'b:step_started', 'b:step_completed', 'c:step_started', 'c:step_completed', '-:completed',
    ]);
    const checkpoints = await tx((x) => listCheckpoints(x, runId));
    expect(checkpoints.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(checkpoints.find((c) => c.step === 'b' && c.status === 'step_completed')?.state).toEqual({ a: 1, b: 2 });
  });

  it('retries a failing step with backoff and then succeeds', async () => {
    const runId = await start('flaky');
    await until(runId, ['completed']);
    expect((await history(runId)).filter((h) => h === 'wobble:step_failed')).toHaveLength(2);
  });

  it('past its retries: compensates in reverse, escalates what cannot be undone, dead-letters; replay runs once more', async () => {
    healthy = false;
    const runId = await start('doomed');
    const run = await until(runId, ['failed']);
    expect(run.error).toMatchObject({ step: 'charge', message: 'payment provider down' });
    const h = await history(runId);
    // charge never completed, so only the two steps before it are unwound, last first.
    expect(h.slice(-4)).toEqual(['charge:step_started', 'notify:not_compensable', 'reserve:compensated', '-:failed']);
    expect(calls).toContain(`release:${runId}`);
    expect(effects.get(`${runId}:notify:email`)).toBe(1);
    const letters = await t.superuser.query('SELECT id, step, attempts, escalation FROM dead_letters WHERE run_id = $1', [runId]);
    expect(letters.rows[0]).toMatchObject({ step: 'charge', attempts: 3, escalation: expect.stringContaining('an email cannot be unsent') });

    healthy = true;
    const { run: replay } = await tx((x) => replayDeadLetter({ tx: x, deadLetterId: letters.rows[0].id, resolveFlow: (n, v) => registry.get(n, v) }));
    await until(replay.id, ['completed']);
    expect(replay.replayOf).toBe(runId);
    await expect(tx((x) => replayDeadLetter({ tx: x, deadLetterId: letters.rows[0].id, resolveFlow: (n, v) => registry.get(n, v) }))).rejects.toMatchObject({ code: 'conflict' });
  });

  it('waits for a signal and passes its payload on', async () => {
    const runId = await start('waiter');
    await until(runId, ['waiting']);
    await tx((x) => signalFlow({ tx: x, runId, name: 'answer', payload: { text: 'نعم' } }));
    const run = await until(runId, ['completed']);
    expect(run.output).toEqual({ got: { text: 'نعم' }, timedOut: false });
  });

  it('keeps a signal that arrives before the wait exists', async () => {
    const runId = await tx(async (x) => {
      const { run } = await startFlow({ tx: x, flow: flows.waiter as FlowDefinition, input: {} });
      await signalFlow({ tx: x, runId: run.id, name: 'answer', payload: { early: true } });
      return run.id;
    });
    const run = await until(runId, ['completed']);
    expect(run.output).toEqual({ got: { early: true }, timedOut: false });
  });

  it('ends a wait by its timeout', async () => {
    const runId = await start('waiter', { timeoutMs: 200 });
    const run = await until(runId, ['completed']);
    expect(run.output).toEqual({ got: null, timedOut: true });
    expect(await history(runId)).toContain('-:wait_timed_out');
  });

  it('fires durable timers', async () => {
    const started = Date.now();
    const runId = await start('sleeper');
    const run = await until(runId, ['completed']);
    expect((run.output as { woke: number }).woke - started).toBeGreaterThanOrEqual(250);
    expect(await history(runId)).toContain('-:timer_fired');
  });

  it('resumes an incomplete run on request, and refuses to resume a finished one', async () => {
    const runId = await start('waiter', { timeoutMs: 60_000 });
    await until(runId, ['waiting']);
    await tx((x) => resumeFlow({ tx: x, runId }));
    expect(await history(runId)).toContain('-:resume_requested');
    await tx((x) => signalFlow({ tx: x, runId, name: 'answer', payload: { ok: 1 } }));
    await until(runId, ['completed']);
    await expect(tx((x) => resumeFlow({ tx: x, runId }))).rejects.toMatchObject({ code: 'conflict' });
  });

  it('cancels a waiting run', async () => {
    const runId = await start('waiter');
    await until(runId, ['waiting']);
    await tx((x) => cancelFlow({ tx: x, runId }));
    await until(runId, ['cancelled']);
    await expect(tx((x) => signalFlow({ tx: x, runId, name: 'answer' }))).rejects.toMatchObject({ code: 'conflict' });
  });

  it('fails a step whose every attempt died with its worker, instead of crash-looping', async () => {
    const runId = await tx(async (x) => {
      const { run } = await startFlow({ tx: x, flow: flows.three as FlowDefinition, input: {} });
      // As if three workers had each started step a and died before finishing it.
      await x.execute(sql`UPDATE flow_runs SET attempt = 3, status = 'running' WHERE id = ${run.id}`);
      return run.id;
    });
    const run = await until(runId, ['failed']);
    expect(run.error).toMatchObject({ step: 'a', message: expect.stringContaining('did not finish in 3 attempts') });
    expect((await t.superuser.query('SELECT count(*)::int AS n FROM dead_letters WHERE run_id = $1', [runId])).rows[0].n).toBe(1);
  });

  it('never runs one step twice when two workers advance the same run at once', async () => {
    const runIds = await Promise.all(Array.from({ length: 5 }, () => start('counter')));
    // The worker is advancing them already; pile on concurrent in-process advances too.
    await Promise.all(runIds.flatMap((runId) => [1, 2, 3].map(() => advanceRun({ appPool: t.appPool, registry, logger }, { tenantId: tenant.id, runId }))));
    for (const runId of runIds) {
      await until(runId, ['completed']);
      expect(calls.filter((c) => c.startsWith(runId))).toEqual([`${runId}:s1`, `${runId}:s2`, `${runId}:s3`]);
    }
  });
});
