import type { Logger } from 'pino';
import type { z } from 'zod';
import type { TenantTx } from '../tenancy/with-tenant.ts';

/** How a step is retried before the run gives up and compensates. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Exponential backoff with full jitter in [0.5, 1.5) of the nominal delay. */
export function backoffMs(policy: RetryPolicy, failedAttempt: number, random = Math.random): number {
  const nominal = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failedAttempt - 1));
  return Math.round(nominal * (0.5 + random()));
}

/**
 * Thrown by a step whose failure no retry can fix (a provider refused the message for good):
 * the run fails at once and compensates, instead of waiting through its retry backoff.
 */
export class PermanentStepError extends Error {
  override readonly name = 'PermanentStepError';
}

export interface StepContext<Input = Record<string, unknown>> {
  runId: string;
  tenantId: string;
  flowName: string;
  stepName: string;
  /** 1 on the first try of this step. */
  attempt: number;
  input: Input;
  /** State accumulated by earlier steps (their returned `state` patches). */
  state: Readonly<Record<string, unknown>>;
  correlationId: string | null;
  logger: Logger;
  /** The signal that ended the wait before this step, if any. */
  signal: { name: string; payload: unknown } | undefined;
  /** True when the wait before this step ended by its timeout instead of a signal. */
  waitTimedOut: boolean;
  /** Runs database work for this tenant in its own short transaction. */
  db<T>(work: (tx: TenantTx) => Promise<T>): Promise<T>;
  /**
   * An external call made at most once per run and step: recorded before the call under the
   * key `<runId>:<step>:<name>`, which `call` must pass on (an Idempotency-Key header, say).
   * A resumed step gets the stored result back if the call finished, or calls again with the
   * same key if the process died mid-call, so the receiver can deduplicate.
   */
  sideEffect<T>(name: string, call: (idempotencyKey: string) => Promise<T>): Promise<T>;
}

export type StepOutcome =
  | void
  | {
      /** Merged into the run's state and checkpointed. */
      state?: Record<string, unknown>;
      /** The run's output, when this is the last step. */
      output?: unknown;
      /** Wait for a named signal (or the timeout) before the next step. */
      waitFor?: { signal: string; timeoutMs: number };
      /** A durable timer: the next step runs at this time. */
      sleepUntil?: Date;
    };

export interface StepDefinition<Input = Record<string, unknown>> {
  name: string;
  run(ctx: StepContext<Input>): Promise<StepOutcome>;
  retry?: Partial<RetryPolicy>;
  /** Undoes the step's effect when a later step fails for good. */
  compensate?(ctx: StepContext<Input>): Promise<void>;
  /**
   * Required when there is no `compensate`: why the step cannot (or need not) be undone.
   * A step with effects that cannot be undone is escalated when its run fails.
   */
  noCompensation?: { reason: string; escalate: boolean };
}

export interface FlowDefinition<Input = Record<string, unknown>> {
  name: string;
  version: string;
  /**
   * The run's input, as every step receives it. The engine parses the stored JSON with it
   * once per advance: a run whose input no longer fits (written by an older version, or by
   * hand) fails for good before any step sees it, instead of a step acting on a guess.
   */
  input: z.ZodType<Input>;
  steps: readonly StepDefinition<Input>[];
}

/** Why a stored flow input does not fit its flow's schema, naming each field. */
export function describeInputIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`).join('; ');
}

/**
 * Declares a flow. Every step must either compensate or say why it cannot: the compiler
 * cannot demand one of two optional fields, so this check does, at registration.
 *
 * @example
 * defineFlow({ name: 'tag', version: '1', input: ZTagInput, steps: [{ name: 'apply', run: applyTags, noCompensation: { reason: 'tags are idempotent labels', escalate: false } }] })
 */
export function defineFlow<Input = Record<string, unknown>>(flow: FlowDefinition<Input>): FlowDefinition<Input> {
  if (flow.steps.length === 0) throw new Error(`flow ${flow.name}: needs at least one step`);
  const names = new Set<string>();
  for (const step of flow.steps) {
    if (names.has(step.name)) throw new Error(`flow ${flow.name}: step name ${step.name} is used twice`);
    names.add(step.name);
    if (!step.compensate && !step.noCompensation) {
      throw new Error(`flow ${flow.name}: step ${step.name} needs compensate() or noCompensation { reason }`);
    }
  }
  return flow;
}

/** Flows by name and version; runs record the version they started on and keep it. */
export class FlowRegistry {
  // Flows differ in their input type; the registry hands them back untyped (runs store input as JSON).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- flows differ in their input type
  readonly #flows = new Map<string, FlowDefinition<any>>();

  // Any input type is accepted, see above.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any flow's input type is accepted
  register(flow: FlowDefinition<any>): void {
    const key = `${flow.name}@${flow.version}`;
    if (this.#flows.has(key)) throw new Error(`flow ${key} is registered twice`);
    this.#flows.set(key, flow);
  }

  get(name: string, version: string): FlowDefinition | undefined {
    return this.#flows.get(`${name}@${version}`);
  }

  versions(name: string): string[] {
    return [...this.#flows.values()].filter((flow) => flow.name === name).map((flow) => flow.version);
  }
}
