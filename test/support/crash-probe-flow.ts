import { z } from 'zod';
import { defineFlow } from '../../src/flows/flow-definition.ts';

/**
 * The flow the crash tests kill workers in the middle of. Shared by the test (which starts
 * runs of it) and by test/support/flow-crash-child.ts (whose worker runs them), so both see
 * the same name, version and steps.
 *
 * Input: `{ fakeUrl }`, the base URL of the test's fake provider; every external call goes
 * to `POST <fakeUrl>/effects` with the side effect's idempotency key as a header.
 */
const ZCrashProbeInput = z.object({ fakeUrl: z.url() });
export type CrashProbeInput = z.infer<typeof ZCrashProbeInput>;

async function post(fakeUrl: string, key: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await fetch(`${fakeUrl}/effects`, {
    method: 'POST',
    headers: { 'idempotency-key': key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`fake provider answered ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

export const crashProbeFlow = defineFlow({
  input: ZCrashProbeInput,
  name: 'crash_probe',
  version: '1',
  steps: [
    {
      name: 'prepare',
      run: async () => ({ state: { prepared: true } }),
      noCompensation: { reason: 'pure', escalate: false },
    },
    {
      name: 'call',
      run: async (ctx) => {
        const charge = await ctx.sideEffect('charge', (key) => post(ctx.input.fakeUrl, key, { runId: ctx.runId, what: 'charge' }));
        return { state: { charge }, waitFor: { signal: 'go', timeoutMs: 60_000 } };
      },
      noCompensation: { reason: 'external charge', escalate: true },
    },
    {
      name: 'after',
      run: async (ctx) => {
        const receipt = await ctx.sideEffect('receipt', (key) => post(ctx.input.fakeUrl, key, { runId: ctx.runId, what: 'receipt' }));
        return { output: { charge: ctx.state.charge, receipt, signal: ctx.signal ?? null } };
      },
      noCompensation: { reason: 'a receipt cannot be unsent', escalate: false },
    },
  ],
});

/**
 * The flow the unwind crash test cancels: two steps whose compensations call the fake
 * provider under the same effect names as their forward steps, and a wait to cancel it in.
 */
export const compensationProbeFlow = defineFlow({
  input: ZCrashProbeInput,
  name: 'compensation_probe',
  version: '1',
  steps: [
    {
      name: 'reserve',
      run: async (ctx) => ({ state: { hold: await ctx.sideEffect('hold', (key) => post(ctx.input.fakeUrl, key, { runId: ctx.runId, what: 'hold' })) } }),
      compensate: async (ctx) => {
        await ctx.sideEffect('hold', (key) => post(ctx.input.fakeUrl, key, { runId: ctx.runId, what: 'release' }));
      },
    },
    {
      name: 'book',
      run: async (ctx) => ({ state: { seat: await ctx.sideEffect('seat', (key) => post(ctx.input.fakeUrl, key, { runId: ctx.runId, what: 'book' })) } }),
      compensate: async (ctx) => {
        await ctx.sideEffect('seat', (key) => post(ctx.input.fakeUrl, key, { runId: ctx.runId, what: 'unbook' }));
      },
    },
    {
      name: 'ask',
      run: async () => ({ waitFor: { signal: 'go', timeoutMs: 60_000 } }),
      noCompensation: { reason: 'a question asks for nothing', escalate: false },
    },
    {
      name: 'finish',
      run: async () => ({ output: { finished: true } }),
      noCompensation: { reason: 'pure', escalate: false },
    },
  ],
});
