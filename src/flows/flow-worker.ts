import { Logger as GraphileLogger, run as runGraphileWorker, type Runner } from 'graphile-worker';
import type pg from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import { withTenant } from '../tenancy/with-tenant.ts';
import { advanceRun, type FlowEngineDeps } from './advance-run.ts';
import { enqueueAdvance, unsafeListIncompleteRuns } from './flows.store.ts';

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
}

export interface FlowWorker {
  recovered: number;
  stop(): Promise<void>;
}

/**
 * Starts graphile-worker with the `flow_advance` task, after re-queuing every run a dead
 * worker left pending or running (its job may stay locked by the dead worker for hours;
 * the re-queued job takes over now, and the per-run advisory lock keeps it single).
 */
export async function startFlowWorker(options: FlowWorkerOptions): Promise<FlowWorker> {
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
  for (const { tenantId, runId } of recoverable) {
    await withTenant({ pool: options.appPool, tenantId }, (tx) => enqueueAdvance(tx, runId));
  }
  if (recoverable.length) options.logger.info({ runs: recoverable.length }, 're-queued incomplete flow runs');
  const graphileLogger = new GraphileLogger((scope) => (level, message, meta) => {
    const method = level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'debug';
    options.logger[method]({ component: 'graphile-worker', scope, meta }, message);
  });
  const runner: Runner = await runGraphileWorker({
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
  return {
    recovered: recoverable.length,
    stop: () => runner.stop(),
  };
}
