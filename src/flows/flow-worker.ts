import { Logger as GraphileLogger, run as runGraphileWorker, type Runner } from 'graphile-worker';
import type pg from 'pg';
import { z } from 'zod';
import { safeErrorMessage } from '../http/query-error.ts';
import { withTenant } from '../tenancy/with-tenant.ts';
import { advanceRun, type FlowEngineDeps } from './advance-run.ts';
import { enqueueAdvance, unsafeListIncompleteRuns, unsafeListStrandedRuns } from './flows.store.ts';

const ZAdvanceJob = z.object({ tenantId: z.uuid(), runId: z.uuid() });

/**
 * Connections a worker slot may hold at once: the run's advisory-lock lease, the step's own
 * transaction, and one short transaction opened while it is open (ctx.sideEffect's record,
 * an attempt row). Pools that serve flows are sized by it.
 */
export const FLOW_CONNECTIONS_PER_SLOT = 3;

export interface FlowWorkerOptions extends FlowEngineDeps {
  /** The owner pool: graphile-worker reads its own schema, recovery lists runs across tenants. */
  ownerPool: pg.Pool;
  concurrency: number;
  pollIntervalMs?: number;
  /** How often to re-queue incomplete runs whose job is gone or dead; 0 or unset: only at start. */
  recoveryIntervalMs?: number;
  /** Restart delays after graphile-worker dies: doubling from the first, capped at the second. */
  restartBackoffMs?: { initial: number; max: number };
}

export interface FlowWorkerHealth {
  ok: boolean;
  detail: string;
}

export interface FlowWorker {
  /** Runs the start-up recovery re-queued (of the first start). */
  recovered: number;
  /** Whether graphile-worker is running now; false between a fatal error and its restart. */
  health(): FlowWorkerHealth;
  /** One recovery sweep now, across tenants; returns how many runs it re-queued. */
  unsafeSweep(): Promise<number>;
  stop(): Promise<void>;
}

const DEFAULT_BACKOFF = { initial: 500, max: 30_000 };
// How long a runner that began shutting down on its own may take to end before it is abandoned.
const SHUTDOWN_GRACE_MS = 10_000;
// How long every job fetch may keep failing before the runner is taken for wedged and replaced.
const FETCH_FAILING_MS = 20_000;

/**
 * Starts graphile-worker with the `flow_advance` task, after re-queuing every run a dead
 * worker left pending or running (its job may stay locked by the dead worker for hours;
 * the re-queued job takes over now, and the per-run advisory lock keeps it single).
 *
 * Supervised: when graphile-worker dies of a fatal error (PostgreSQL restarted under it, say),
 * it is started again, recovery included, after a doubling delay, for as long as it takes;
 * `health()` says it is down meanwhile, for readiness. A failure of the first start is thrown.
 *
 * Every `recoveryIntervalMs` a sweep re-queues runs left without a live job (see
 * {@link unsafeListStrandedRuns}): a job graphile-worker gave up on after its 25 attempts
 * would otherwise leave its run stuck until the next restart.
 */
export async function startFlowWorker(options: FlowWorkerOptions): Promise<FlowWorker> {
  const backoff = options.restartBackoffMs ?? DEFAULT_BACKOFF;
  let stopping = false;
  let runner: Runner | undefined;
  let down: string | undefined = 'starting';
  let restartTimer: NodeJS.Timeout | undefined;
  let failures = 0;

  const requeue = async (runs: Array<{ tenantId: string; runId: string }>) => {
    for (const { tenantId, runId } of runs) {
      await withTenant({ pool: options.appPool, tenantId }, (tx) => enqueueAdvance(tx, runId));
    }
  };

  const launch = async (): Promise<number> => {
    const recovered = await recoverAtStart(options, requeue);
    const started = await runGraphile(options);
    if (stopping) {
      await started.stop();
      return recovered;
    }
    runner = started;
    down = undefined;
    failures = 0;
    // Settles only when the runner ends: on stop(), or of a fatal error if we did not stop it.
    void started.promise.then(
      () => onEnded(started, undefined),
      (error: unknown) => onEnded(started, error),
    );
    // A worker that dies of a lost connection makes the pool shut itself down, and that shutdown
    // waits for every other worker's job; seen under chaos (PostgreSQL restarted under load), it
    // never ended, so the promise above never settled and no run moved again. Down at once, and
    // abandoned (a new runner started) if it has not ended within the grace period.
    const onSelfShutdown = () => {
      if (stopping || runner !== started) return;
      down = 'graphile-worker is shutting down on its own';
      setTimeout(() => {
        if (stopping || runner !== started) return;
        onEnded(started, new Error(`graphile-worker did not finish shutting down within ${SHUTDOWN_GRACE_MS} ms; abandoned`));
        void Promise.resolve()
          .then(() => started.stop())
          .catch(() => undefined);
      }, SHUTDOWN_GRACE_MS).unref();
    };
    started.events.on('pool:gracefulShutdown', onSelfShutdown);
    started.events.on('pool:forcefulShutdown', onSelfShutdown);
    // graphile-worker 0.18 caches its task-id lookup as a promise per runner; when the first
    // lookup fails (PostgreSQL restarting as the runner starts) the rejected promise stays cached,
    // and every job fetch fails with that error for good while the runner looks alive (found by
    // chaos: 85 jobs due, "Connection terminated unexpectedly" 110 polls in a row). A new runner
    // has a new cache: fetches that fail without a success for FETCH_FAILING_MS replace it.
    let failingSince: number | undefined;
    const fetched = () => (failingSince = undefined);
    started.events.on('worker:getJob:empty', fetched);
    started.events.on('job:start', fetched);
    started.events.on('worker:getJob:error', ({ error }) => {
      const now = Date.now();
      failingSince ??= now;
      if (now - failingSince < FETCH_FAILING_MS || stopping || runner !== started) return;
      failingSince = undefined;
      options.logger.error({ err: error }, 'flow worker cannot fetch jobs; replacing it');
      onEnded(started, new Error(`every job fetch failed for ${FETCH_FAILING_MS} ms: ${safeErrorMessage(error)}`));
      void Promise.resolve()
        .then(() => started.stop())
        .catch(() => undefined);
    });
    return recovered;
  };

  const onEnded = (ended: Runner, error: unknown) => {
    if (stopping || runner !== ended) return;
    runner = undefined;
    down = `graphile-worker stopped unexpectedly${error === undefined ? '' : `: ${safeErrorMessage(error)}`}`;
    options.logger.error({ err: error }, 'flow worker died; restarting it');
    scheduleRestart();
  };

  const scheduleRestart = () => {
    const delay = Math.min(backoff.max, backoff.initial * 2 ** Math.min(failures, 20));
    failures += 1;
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopping) return;
      const attempts = failures;
      launch().then(
        (recovered) => options.logger.info({ recovered, attempts }, 'flow worker restarted'),
        (error: unknown) => {
          down = `restart failed: ${safeErrorMessage(error)}`;
          options.logger.warn({ err: error, attempts }, 'flow worker restart failed; retrying');
          scheduleRestart();
        },
      );
    }, delay);
  };

  const sweep = async (): Promise<number> => {
    const stranded = await unsafeListStrandedRuns(options.ownerPool);
    await requeue(stranded);
    if (stranded.length) options.logger.warn({ runs: stranded.length }, 're-queued flow runs whose job was gone or dead');
    return stranded.length;
  };
  let sweeping = false;
  const sweepTimer = options.recoveryIntervalMs
    ? setInterval(() => {
        // Only while the worker runs (a down database fails the sweep too), one at a time.
        if (sweeping || down || stopping) return;
        sweeping = true;
        sweep()
          .catch((error: unknown) => options.logger.warn({ err: error }, 'flow recovery sweep failed'))
          .finally(() => (sweeping = false));
      }, options.recoveryIntervalMs)
    : undefined;
  sweepTimer?.unref();

  let recovered: number;
  try {
    recovered = await launch();
  } catch (error) {
    if (sweepTimer) clearInterval(sweepTimer);
    throw error;
  }
  return {
    recovered,
    health: () => (down ? { ok: false, detail: down } : { ok: true, detail: 'running' }),
    unsafeSweep: sweep,
    async stop() {
      stopping = true;
      if (sweepTimer) clearInterval(sweepTimer);
      if (restartTimer) clearTimeout(restartTimer);
      const current = runner;
      runner = undefined;
      down = 'stopped';
      await current?.stop();
    },
  };
}

/**
 * Re-queues every run a dead worker left pending or running, and every run whose job a
 * dead worker still holds locked; returns how many.
 */
async function recoverAtStart(options: FlowWorkerOptions, requeue: (runs: Array<{ tenantId: string; runId: string }>) => Promise<void>): Promise<number> {
  const incomplete = await unsafeListIncompleteRuns(options.ownerPool);
  // A run of any status (a waiting one, say, whose signal turned its timer job into the
  // wake-up job a dead worker then took) can have its only job locked by a dead worker.
  // Before this worker starts, every locked flow job that still holds its run's key is
  // someone else's: re-queue its run too (a live worker's run just advances once more).
  const stranded = await options.ownerPool.query<{ payload: unknown }>(
    `SELECT j.payload FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
     WHERE t.identifier = 'flow_advance' AND j.locked_at IS NOT NULL AND j.key IS NOT NULL`,
  );
  const byRun = new Map(incomplete.map((run) => [run.runId, run]));
  for (const { payload } of stranded.rows) {
    const job = ZAdvanceJob.safeParse(payload);
    if (job.success) byRun.set(job.data.runId, job.data);
  }
  const recoverable = [...byRun.values()];
  await requeue(recoverable);
  if (recoverable.length) options.logger.info({ runs: recoverable.length }, 're-queued incomplete flow runs');
  return recoverable.length;
}

async function runGraphile(options: FlowWorkerOptions): Promise<Runner> {
  const graphileLogger = new GraphileLogger((scope) => (level, message, meta) => {
    // graphile-worker reports a failed job fetch at debug; a worker that can never fetch a job is
    // stalled, so an operator must see it.
    const method = level === 'error' ? 'error' : level === 'warning' || message.startsWith('Failed to acquire job') ? 'warn' : 'debug';
    options.logger[method]({ component: 'graphile-worker', scope, meta }, message);
  });
  return runGraphileWorker({
    pgPool: options.ownerPool,
    concurrency: options.concurrency,
    noHandleSignals: true,
    // Write each job's completion at once, not in a batch: a batch pending at shutdown
    // would leave finished jobs locked (harmless to runs, noisy for operators).
    preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    pollInterval: options.pollIntervalMs ?? 2_000,
    logger: graphileLogger,
    taskList: {
      flow_advance: async (payload) => {
        const job = ZAdvanceJob.parse(payload);
        await advanceRun(options, job);
      },
    },
  });
}
