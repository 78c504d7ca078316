import { eq, sql } from 'drizzle-orm';
import { deadLetters, flowRuns } from '../db/schema.ts';
import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { describeInputIssues, type FlowDefinition } from './flow-definition.ts';
import { addCheckpoint, enqueueAdvance, findRun, findRunByIdempotencyKey, insertSignal, TERMINAL_STATUSES, runState, updateRun, type FlowRunRow } from './flows.store.ts';

export interface StartFlowOptions {
  tx: TenantTx;
  // The run stores input as JSON; the flow's own input type does not matter here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a run's input is JSON; any flow's input type is accepted
  flow: FlowDefinition<any>;
  input: Record<string, unknown>;
  correlationId?: string | null;
  /** A run per key: starting again with the same key returns the first run. */
  idempotencyKey?: string | null;
  canaryVersion?: string | null;
  replayOf?: string | null;
  /** The run's id, when the caller must reference it before the run exists (a row written just before). */
  runId?: string;
  /** The deal the run acts on (a deal of this tenant), if any. */
  dealId?: string | null;
}

/**
 * Starts a run: the run row, its first checkpoint and the job that will advance it are
 * written in the caller's transaction, so a run exists exactly when its job does.
 */
export async function startFlow(options: StartFlowOptions): Promise<{ run: FlowRunRow; created: boolean }> {
  const { tx, flow } = options;
  // Every caller builds the input from data it has validated, so a misfit is our bug: refused
  // here, where the stack names the caller, not later in a worker that can only fail the run.
  const checked = flow.input.safeParse(options.input);
  if (!checked.success) throw new Error(`flow ${flow.name}@${flow.version}: the input does not fit its schema (${describeInputIssues(checked.error)})`);
  if (options.idempotencyKey) {
    const existing = await findRunByIdempotencyKey(tx, options.idempotencyKey);
    if (existing) return { run: existing, created: false };
  }
  const [run] = await tx
    .insert(flowRuns)
    .values({
      ...(options.runId ? { id: options.runId } : {}),
      flowName: flow.name,
      flowVersion: flow.version,
      input: options.input,
      correlationId: options.correlationId ?? null,
      idempotencyKey: options.idempotencyKey ?? null,
      canaryVersion: options.canaryVersion ?? null,
      replayOf: options.replayOf ?? null,
      dealId: options.dealId ?? null,
    })
    .returning();
  if (!run) throw new Error('INSERT … RETURNING gave no row');
  await addCheckpoint(tx, { runId: run.id, step: null, status: 'started', note: `${flow.name}@${flow.version}`, state: {} });
  await enqueueAdvance(tx, run.id);
  return { run, created: true };
}

/**
 * Delivers a signal to a run's inbox and wakes it. A signal sent before the run waits for
 * it stays in the inbox until the wait consumes it.
 */
export async function signalFlow(options: { tx: TenantTx; runId: string; name: string; payload?: unknown }): Promise<{ signalId: string }> {
  const run = await findRun(options.tx, options.runId);
  if (!run) throw new AppError('not_found', `Flow run ${options.runId} does not exist`);
  if ((TERMINAL_STATUSES as readonly string[]).includes(run.status)) {
    throw new AppError('conflict', `Flow run ${options.runId} is ${run.status}; it takes no more signals`);
  }
  const signalId = await insertSignal(options.tx, { runId: options.runId, name: options.name, payload: options.payload ?? {} });
  await enqueueAdvance(options.tx, options.runId);
  return { signalId };
}

/** Asks a run to stop: the worker compensates what it completed and marks it cancelled. */
export async function cancelFlow(options: { tx: TenantTx; runId: string }): Promise<FlowRunRow> {
  const run = await findRun(options.tx, options.runId, { forUpdate: true });
  if (!run) throw new AppError('not_found', `Flow run ${options.runId} does not exist`);
  if ((TERMINAL_STATUSES as readonly string[]).includes(run.status)) {
    throw new AppError('conflict', `Flow run ${options.runId} is already ${run.status}`);
  }
  await updateRun(options.tx, options.runId, { cancelRequested: true });
  await addCheckpoint(options.tx, { runId: options.runId, step: null, status: 'cancel_requested', state: runState(run) });
  await enqueueAdvance(options.tx, options.runId);
  return { ...run, cancelRequested: true };
}

/** Re-queues an incomplete run (after an outage, say) without waiting for its timers. */
export async function resumeFlow(options: { tx: TenantTx; runId: string }): Promise<FlowRunRow> {
  const run = await findRun(options.tx, options.runId, { forUpdate: true });
  if (!run) throw new AppError('not_found', `Flow run ${options.runId} does not exist`);
  if (run.status === 'failed') throw new AppError('conflict', 'A failed run is resumed by replaying its dead letter');
  if ((TERMINAL_STATUSES as readonly string[]).includes(run.status)) throw new AppError('conflict', `Flow run ${options.runId} is ${run.status}`);
  if (run.nextAttemptAt) await updateRun(options.tx, options.runId, { nextAttemptAt: null });
  await addCheckpoint(options.tx, { runId: options.runId, step: null, status: 'resume_requested', state: runState(run) });
  await enqueueAdvance(options.tx, options.runId);
  return run;
}

/**
 * Replays a dead letter as a new run of the same flow version with the same input. The new
 * run has its own side-effect keys; the dead letter points at it and cannot be replayed twice.
 */
export async function replayDeadLetter(options: {
  tx: TenantTx;
  deadLetterId: string;
  resolveFlow: (name: string, version: string) => FlowDefinition | undefined;
}): Promise<{ run: FlowRunRow }> {
  const [letter] = await options.tx.select().from(deadLetters).where(eq(deadLetters.id, options.deadLetterId)).for('update');
  if (!letter) throw new AppError('not_found', `Dead letter ${options.deadLetterId} does not exist`);
  if (letter.replayedAt) throw new AppError('conflict', `Dead letter ${options.deadLetterId} was already replayed as run ${letter.replayRunId}`);
  const failed = await findRun(options.tx, letter.runId);
  if (!failed) throw new AppError('not_found', `Flow run ${letter.runId} does not exist`);
  const flow = options.resolveFlow(failed.flowName, failed.flowVersion);
  if (!flow) throw new AppError('conflict', `Flow ${failed.flowName}@${failed.flowVersion} is no longer registered`);
  const checked = flow.input.safeParse(failed.input);
  if (!checked.success) {
    throw new AppError('conflict', `Flow run ${failed.id}'s input does not fit ${failed.flowName}@${failed.flowVersion} (${describeInputIssues(checked.error)}); a replay would fail the same way`);
  }
  const { run } = await startFlow({
    tx: options.tx,
    flow,
    input: checked.data,
    correlationId: failed.correlationId,
    canaryVersion: failed.canaryVersion,
    replayOf: failed.id,
    dealId: failed.dealId,
  });
  await options.tx.update(deadLetters).set({ replayedAt: sql`now()`, replayRunId: run.id }).where(eq(deadLetters.id, letter.id));
  return { run };
}
