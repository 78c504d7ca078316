import { context, SpanStatusCode } from '@opentelemetry/api';
import type pg from 'pg';
import type { Logger } from 'pino';
import { safeErrorMessage } from '../http/query-error.ts';
import { contextForCorrelationId, tracer } from '../http/telemetry.ts';
import { withTenant, type TenantTx } from '../tenancy/with-tenant.ts';
import { noFaults, type FaultInjector } from '../config/fault-points.ts';
import { z } from 'zod';
import { backoffMs, DEFAULT_RETRY, describeInputIssues, PermanentStepError, type FlowDefinition, type FlowRegistry, type StepContext, type StepDefinition } from './flow-definition.ts';
import {
  addCheckpoint,
  checkpointAndUpdate,
  completeSideEffect,
  enqueueAdvance,
  findRun,
  insertDeadLetter,
  listCheckpoints,
  recordSideEffect,
  takeSignal,
  TERMINAL_STATUSES,
  updateRun,
  type FlowCheckpointRow,
  type FlowRunRow,
  runState,
} from './flows.store.ts';

/** The signal that ended a wait, as the engine stores it in the run's state (`null`: timed out or a timer). */
const ZStoredSignal = z
  .object({ name: z.string(), payload: z.unknown() })
  .nullish()
  .transform((signal) => (signal ? { name: signal.name, payload: signal.payload } : undefined));

/** Checkpoints that settle a step's compensation: written once per step per unwind. */
const COMPENSATION_STATUSES: ReadonlySet<string> = new Set(['compensated', 'compensation_failed', 'not_compensable']);

export interface FlowEngineDeps {
  appPool: pg.Pool;
  registry: FlowRegistry;
  logger: Logger;
  faults?: FaultInjector;
}

/**
 * Advances one run as far as it can go now: through its steps, until it completes, fails,
 * waits (for a signal, a timer or a retry backoff) or is cancelled.
 *
 * Exclusive per run: a session advisory lock on a dedicated connection is held for the
 * whole advance, so two workers never resume one run twice (the second waits, then finds
 * the state the first left). If this process dies, its connection dies and the lock goes
 * with it, so a restarted worker can take over at once.
 */
export async function advanceRun(deps: FlowEngineDeps, target: { tenantId: string; runId: string }): Promise<void> {
  const lease = await deps.appPool.connect();
  let broken: Error | undefined;
  try {
    await lease.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`flow:${target.runId}`]);
    try {
      // Bounded: a flow that never waits still yields the worker now and then.
      let carried: Carried | undefined;
      for (let moves = 0; moves < 500; moves++) {
        const next = await advanceOnce(deps, target.tenantId, target.runId, carried);
        if (next === false) return;
        carried = next === true ? undefined : next;
      }
      await withTenant({ pool: deps.appPool, tenantId: target.tenantId }, (tx) => enqueueAdvance(tx, target.runId));
    } finally {
      await lease.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`flow:${target.runId}`]);
    }
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    lease.release(broken);
  }
}

/**
 * The run as this advance last wrote it, and the attempt whose step_started checkpoint that
 * write already committed. While the advisory lock is held nobody else advances the run,
 * so the row needs no re-read; a concurrent cancel is seen in the row our UPDATE returned.
 */
interface Carried {
  run: FlowRunRow;
  startedAttempt: number;
  /** The run's input as the flow's schema parsed it (the input column never changes). */
  input: Record<string, unknown>;
}

/**
 * One move. Returns false when the run cannot move now, true when it moved and should be
 * re-read, or the carried run when it moved straight into its next step.
 */
async function advanceOnce(deps: FlowEngineDeps, tenantId: string, runId: string, carried?: Carried): Promise<boolean | Carried> {
  const tx = <T>(work: (t: TenantTx) => Promise<T>) => withTenant({ pool: deps.appPool, tenantId }, work);
  const run = carried?.run ?? (await tx((t) => findRun(t, runId)));
  if (!run || (TERMINAL_STATUSES as readonly string[]).includes(run.status)) return false;
  const logger = deps.logger.child({ run_id: runId, flow: run.flowName, correlation_id: run.correlationId ?? undefined, tenant_id: tenantId });
  const flow = deps.registry.get(run.flowName, run.flowVersion);
  if (!flow) {
    logger.error('no flow registered for this run; failing it');
    await tx(async (t) => {
      await updateRun(t, runId, { status: 'failed', error: { message: `flow ${run.flowName}@${run.flowVersion} is not registered` }, completedAt: new Date() });
      await addCheckpoint(t, { runId, step: null, status: 'failed', note: 'flow not registered', state: runState(run) });
      await insertDeadLetter(t, { runId, flowName: run.flowName, step: '(none)', error: { message: 'flow not registered' }, attempts: 0, escalation: null });
    });
    return false;
  }
  let input = carried?.input;
  if (!input) {
    const parsed = flow.input.safeParse(run.input);
    if (!parsed.success) {
      // No retry makes stored JSON fit, and no step (nor compensation) may act on a guess.
      const message = `the stored input does not fit ${run.flowName}@${run.flowVersion}: ${describeInputIssues(parsed.error)}`;
      logger.error({ step: flow.steps[run.nextStep]?.name }, 'flow run input does not fit its schema; failing the run');
      await unwind(deps, flow, run, run.cancelRequested ? 'cancelled' : 'failed', { step: flow.steps[run.nextStep]?.name ?? '(none)', message, attempts: run.attempt }, logger, undefined);
      return false;
    }
    input = parsed.data;
  }
  if (run.cancelRequested) {
    await unwind(deps, flow, run, 'cancelled', { message: 'cancelled on request' }, logger, input);
    return false;
  }
  const now = Date.now();
  const state = runState(run);

  if (run.status === 'waiting') {
    const resumed = await tx(async (t) => {
      // Lock the run row first. A signal's insert holds a KEY SHARE lock on it (its foreign
      // key) until it commits, so this waits for a signal in flight and takeSignal sees it;
      // otherwise re-arming the timer below could overwrite the signal's wake-up job with
      // run_at = waitUntil, and the signal would sit unread until the wait timed out.
      const locked = await findRun(t, runId, { forUpdate: true });
      // Likewise a cancel (or another move) committed since `run` was read: re-read and act on
      // it, or re-arming the timer would push the cancel's wake-up job out to waitUntil.
      if (!locked || locked.status !== 'waiting' || locked.cancelRequested) return true;
      if (run.waitSignal) {
        const signal = await takeSignal(t, runId, run.waitSignal);
        if (signal) {
          const next = { ...state, _signal: { name: run.waitSignal, payload: signal.payload }, _waitTimedOut: false };
          await updateRun(t, runId, { status: 'running', waitSignal: null, waitUntil: null, state: next });
          await addCheckpoint(t, { runId, step: null, status: 'signal_received', note: run.waitSignal, state: next });
          return true;
        }
      }
      if (run.waitUntil && run.waitUntil.getTime() <= now) {
        const next = { ...state, _signal: null, _waitTimedOut: Boolean(run.waitSignal) };
        await updateRun(t, runId, { status: 'running', waitSignal: null, waitUntil: null, state: next });
        await addCheckpoint(t, { runId, step: null, status: run.waitSignal ? 'wait_timed_out' : 'timer_fired', note: run.waitSignal, state: next });
        return true;
      }
      // Another signal (or a replaced job) woke us early: keep the timer job alive.
      if (run.waitUntil) await enqueueAdvance(t, runId, run.waitUntil);
      return false;
    });
    return resumed;
  }

  if (run.nextAttemptAt && run.nextAttemptAt.getTime() > now) {
    await tx((t) => enqueueAdvance(t, runId, run.nextAttemptAt ?? undefined));
    return false;
  }

  const step = flow.steps[run.nextStep];
  if (!step) {
    await tx(async (t) => {
      await updateRun(t, runId, { status: 'completed', completedAt: new Date(), output: state });
      await addCheckpoint(t, { runId, step: null, status: 'completed', state });
    });
    return false;
  }

  const attempt = carried ? carried.startedAttempt : run.attempt + 1;
  const retryPolicy = { ...DEFAULT_RETRY, ...step.retry };
  if (attempt > retryPolicy.maxAttempts) {
    // Every earlier attempt started and never finished: the step kills its worker (out of
    // memory, say). Retrying forever would crash-loop the fleet; treat it as failed for good.
    logger.error({ step: step.name, attempts: run.attempt }, 'flow step never finished in its allowed attempts; failing the run');
    await unwind(deps, flow, run, 'failed', { step: step.name, message: `the step did not finish in ${run.attempt} attempts (the worker died each time)`, attempts: run.attempt }, logger, input);
    return false;
  }
  if (!carried) {
    await tx((t) => checkpointAndUpdate(t, runId, [{ step: step.name, status: 'step_started', note: `attempt ${attempt}`, state }], { status: 'running', attempt, nextAttemptAt: null }));
  }

  let outcome;
  try {
    const ctx = stepContext(deps, run, input, step, attempt, logger);
    outcome = await inStepSpan(run, step.name, attempt, () => step.run(ctx));
  } catch (error) {
    const policy = retryPolicy;
    // Stored in the run, its checkpoints and dead letter: never a failed query's bound values.
    const message = safeErrorMessage(error);
    if (attempt < policy.maxAttempts && !(error instanceof PermanentStepError)) {
      const retryAt = new Date(Date.now() + backoffMs(policy, attempt));
      logger.warn({ err: error, step: step.name, attempt, retry_at: retryAt.toISOString() }, 'flow step failed; retrying');
      await tx(async (t) => {
        await updateRun(t, runId, { nextAttemptAt: retryAt, error: { step: step.name, message, attempt } });
        await addCheckpoint(t, { runId, step: step.name, status: 'step_failed', note: `attempt ${attempt}: ${message}; retry at ${retryAt.toISOString()}`, state });
        await enqueueAdvance(t, runId, retryAt);
      });
      return false;
    }
    logger.error({ err: error, step: step.name, attempt }, 'flow step failed for good; compensating');
    await unwind(deps, flow, { ...run, attempt }, 'failed', { step: step.name, message, attempts: attempt }, logger, input);
    return false;
  }

  const patch = outcome && 'state' in outcome && outcome.state ? outcome.state : {};
  const { _signal: _s, _waitTimedOut: _w, ...kept } = state;
  const next = { ...kept, ...patch };
  const isLast = run.nextStep + 1 >= flow.steps.length;
  const following = flow.steps[run.nextStep + 1];
  const completed = { step: step.name, status: 'step_completed', state: next };
  const base = { state: next, nextStep: run.nextStep + 1, attempt: 0, nextAttemptAt: null, error: null };
  const result = await tx(async (t): Promise<boolean | Carried> => {
    if (outcome?.waitFor) {
      const waitUntil = new Date(Date.now() + outcome.waitFor.timeoutMs);
      await checkpointAndUpdate(t, runId, [completed, { step: step.name, status: 'waiting', note: `signal ${outcome.waitFor.signal} until ${waitUntil.toISOString()}`, state: next }], {
        ...base,
        status: 'waiting',
        waitSignal: outcome.waitFor.signal,
        waitUntil,
      });
      await enqueueAdvance(t, runId, waitUntil);
      // A signal may already be in the inbox: re-read and look.
      return true;
    }
    if (outcome?.sleepUntil) {
      await checkpointAndUpdate(t, runId, [completed, { step: step.name, status: 'waiting', note: `timer until ${outcome.sleepUntil.toISOString()}`, state: next }], {
        ...base,
        status: 'waiting',
        waitSignal: null,
        waitUntil: outcome.sleepUntil,
      });
      await enqueueAdvance(t, runId, outcome.sleepUntil);
      return outcome.sleepUntil.getTime() <= Date.now();
    }
    if (isLast || !following) {
      await checkpointAndUpdate(t, runId, [completed, { step: null, status: 'completed', state: next }], {
        ...base,
        status: 'completed',
        output: (outcome?.output ?? next) as never,
        completedAt: new Date(),
      });
      return false;
    }
    // Chain: this step's completion and the next step's start commit together.
    const updated = await checkpointAndUpdate(t, runId, [completed, { step: following.name, status: 'step_started', note: 'attempt 1', state: next }], {
      ...base,
      status: 'running',
      attempt: 1,
    });
    return { run: updated, startedAttempt: 1, input };
  });
  if (outcome?.waitFor) (deps.faults ?? noFaults)('while_waiting');
  return result;
}

/**
 * One span per step, a child of the run's correlation id (the trace id), so a trace shows
 * the gateway call and every step that carried it out, across workers and restarts.
 */
async function inStepSpan<T>(run: FlowRunRow, stepName: string, attempt: number, work: () => Promise<T>): Promise<T> {
  const parent = run.correlationId ? contextForCorrelationId(run.correlationId) : context.active();
  return tracer.startActiveSpan(`flow ${run.flowName} step ${stepName}`, { attributes: { 'dealix.run_id': run.id, 'dealix.step': stepName, 'dealix.attempt': attempt } }, parent, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: safeErrorMessage(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * A step's context. A compensation gets its own side-effect keys (`compensate:<forward key>`):
 * with the forward key, a compensation naming its effect like the forward step (`charge` to
 * charge, `charge` to refund) would be handed the forward result back and never call out.
 */
function stepContext(
  deps: FlowEngineDeps,
  run: FlowRunRow,
  input: Record<string, unknown>,
  step: StepDefinition,
  attempt: number,
  logger: Logger,
  role: 'forward' | 'compensate' = 'forward',
): StepContext {
  const tenantId = run.tenantId;
  const faults = deps.faults ?? noFaults;
  const state = runState(run);
  const signal = ZStoredSignal.parse(state._signal);
  return {
    runId: run.id,
    tenantId,
    flowName: run.flowName,
    stepName: step.name,
    attempt,
    input,
    state,
    correlationId: run.correlationId,
    logger: logger.child({ step: step.name }),
    signal,
    waitTimedOut: state._waitTimedOut === true,
    db: (work) => withTenant({ pool: deps.appPool, tenantId }, work),
    async sideEffect(name, call) {
      const forwardKey = `${run.id}:${step.name}:${name}`;
      const idempotencyKey = role === 'compensate' ? `compensate:${forwardKey}` : forwardKey;
      const known = await withTenant({ pool: deps.appPool, tenantId }, (t) => recordSideEffect(t, { idempotencyKey, runId: run.id, step: step.name }));
      // json-column: the result is what this step's own `call` returned and the engine stored; the
      // step declares no schema for it, so the engine hands back exactly what it wrote.
      if (known.status === 'done') return known.result as Awaited<ReturnType<typeof call>>;
      faults('before_side_effect');
      const result = await call(idempotencyKey);
      faults('after_side_effect');
      await withTenant({ pool: deps.appPool, tenantId }, (t) => completeSideEffect(t, idempotencyKey, result));
      return result;
    },
  };
}

/**
 * Ends a run that will not complete: compensations run in reverse order for the steps that
 * completed; steps that cannot be undone say so and, when they had real effects, escalate.
 * A failed run leaves a dead letter; a cancelled one does not.
 */
async function unwind(
  deps: FlowEngineDeps,
  flow: FlowDefinition,
  run: FlowRunRow,
  status: 'failed' | 'cancelled',
  error: Record<string, unknown>,
  logger: Logger,
  /** The parsed input; undefined when it does not fit, and then no compensation can run. */
  input: Record<string, unknown> | undefined,
): Promise<void> {
  const tx = <T>(work: (t: TenantTx) => Promise<T>) => withTenant({ pool: deps.appPool, tenantId: run.tenantId }, work);
  const faults = deps.faults ?? noFaults;
  const state = runState(run);
  const escalations: string[] = [];
  // An unwind interrupted by a crash is run again from the start: a step whose compensation
  // checkpoint committed is not compensated twice (a refund is not paid twice), and what it
  // found then still goes into the escalation.
  const settled = new Map<string, FlowCheckpointRow>();
  for (const checkpoint of await tx((t) => listCheckpoints(t, run.id))) {
    if (checkpoint.step && COMPENSATION_STATUSES.has(checkpoint.status)) settled.set(checkpoint.step, checkpoint);
  }
  for (const step of flow.steps.slice(0, run.nextStep).reverse()) {
    const earlier = settled.get(step.name);
    if (earlier) {
      if (earlier.status === 'compensation_failed') escalations.push(`${step.name}: compensation failed (${earlier.note ?? 'unknown error'})`);
      if (earlier.status === 'not_compensable' && step.noCompensation?.escalate) escalations.push(`${step.name}: cannot be undone (${step.noCompensation.reason})`);
      continue;
    }
    if (step.compensate && !input) {
      const note = 'not run: the stored input does not fit the flow';
      escalations.push(`${step.name}: compensation ${note}`);
      await tx((t) => addCheckpoint(t, { runId: run.id, step: step.name, status: 'compensation_failed', note, state }));
    } else if (step.compensate && input) {
      try {
        await step.compensate(stepContext(deps, run, input, step, 1, logger, 'compensate'));
        await tx((t) => addCheckpoint(t, { runId: run.id, step: step.name, status: 'compensated', state }));
      } catch (compensationError) {
        const message = safeErrorMessage(compensationError);
        escalations.push(`${step.name}: compensation failed (${message})`);
        logger.error({ err: compensationError, step: step.name }, 'compensation failed; escalating');
        await tx((t) => addCheckpoint(t, { runId: run.id, step: step.name, status: 'compensation_failed', note: message, state }));
      }
      faults('after_compensation');
    } else if (step.noCompensation) {
      if (step.noCompensation.escalate) escalations.push(`${step.name}: cannot be undone (${step.noCompensation.reason})`);
      await tx((t) =>
        addCheckpoint(t, { runId: run.id, step: step.name, status: 'not_compensable', note: step.noCompensation?.reason ?? null, state }),
      );
    }
  }
  const failedStep = (error.step as string | undefined) ?? flow.steps[run.nextStep]?.name ?? '(none)';
  await tx(async (t) => {
    await updateRun(t, run.id, { status, error, completedAt: new Date(), nextAttemptAt: null, waitSignal: null, waitUntil: null });
    await addCheckpoint(t, { runId: run.id, step: null, status, note: typeof error.message === 'string' ? error.message : '', state });
    if (status === 'failed') {
      await insertDeadLetter(t, {
        runId: run.id,
        flowName: run.flowName,
        step: failedStep,
        error,
        attempts: run.attempt,
        escalation: escalations.length ? escalations.join('; ') : null,
      });
    }
  });
  if (escalations.length) logger.error({ escalations }, 'flow needs a human: effects that could not be undone');
}
