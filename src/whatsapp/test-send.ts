import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { findRun, TERMINAL_STATUSES } from '../flows/flows.store.ts';
import { executeAction, type ExecuteDeps, type ExecuteOutcome } from '../gateway/execute-action.ts';
import { withTenant } from '../tenancy/with-tenant.ts';
import { TEST_SEND_ACTION } from './test-send.plugin.ts';

export interface TestSendResult {
  outcome: ExecuteOutcome;
  /** The run's status when the answer was given; `completed`/`failed` carry its output or error. */
  runStatus: string | null;
  output: unknown;
  error: unknown;
}

/**
 * POST /os/test-send: the gateway decides in a transaction of its own, committed at once, so
 * the worker can run the send while this request waits for it (up to `waitMs`) and answers
 * with the attempts. Refusals are committed too: every call leaves its decision.
 *
 * @example
 * const result = await testSend({ pool, tenantId, actor, input: { to: '0551234567', text: 'test' }, correlationId, deps });
 */
export async function testSend(options: {
  pool: pg.Pool;
  tenantId: string;
  actor: string;
  input: { to: string; text: string; approval_token?: string | undefined };
  correlationId: string;
  idempotencyKey?: string | undefined;
  deps: ExecuteDeps;
  waitMs?: number;
}): Promise<TestSendResult> {
  const { pool, tenantId, input } = options;
  const outcome = await withTenant({ pool, tenantId }, (tx) =>
    executeAction({
      tx,
      tenantId,
      request: {
        actor: options.actor,
        action: TEST_SEND_ACTION,
        payload: { to: input.to, text: input.text },
        correlationId: options.correlationId,
        idempotencyKey: options.idempotencyKey,
        approvalToken: input.approval_token,
      },
      deps: options.deps,
    }),
  );
  if (outcome.result !== 'accepted' || !outcome.flowRunId) return { outcome, runStatus: null, output: null, error: null };
  const runId = outcome.flowRunId;
  const deadline = Date.now() + (options.waitMs ?? 15_000);
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    const run = await withTenant({ pool, tenantId, readOnly: true }, (tx) => findRun(tx, runId));
    if (!run || (TERMINAL_STATUSES as readonly string[]).includes(run.status) || Date.now() > deadline) {
      return { outcome, runStatus: run?.status ?? null, output: run?.output ?? null, error: run?.error ?? null };
    }
    await sleep(delay);
  }
}
