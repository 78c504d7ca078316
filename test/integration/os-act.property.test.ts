import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAL_STAGES, type DealStage } from '../../src/deals/deal-stages.ts';
import { loadDataset } from '../../src/intents/dataset.ts';
import { EARLY_STAGES, grantTemplateReplies, SUNDAY_10_RIYADH } from '../support/os-fixture.ts';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

/**
 * Issue 4's proof against the real thing: random short conversations driven through
 * POST /os/process-and-act (with occasional manual moves into the human-approval stages),
 * a flow worker really sending under a standing approval, and then, from the database:
 * nothing was sent after the opt-out, and nothing went out in a stage that needs a human
 * unless a human approved it.
 */

let t: TestApp;
let tenant: TestTenant;
let admin: string;


const dataset = loadDataset();
const optOutTexts = dataset.filter((m) => m.intent === 'opt_out').map((m) => m.text);
const otherTexts = dataset.filter((m) => m.intent !== 'opt_out').map((m) => m.text);

beforeAll(async () => {
  // Timed replies (not_now follow-ups) fire at once (their due dates are in the past) and see business hours open.
  t = await createTestApp({ clock: () => new Date(SUNDAY_10_RIYADH) });
  tenant = await t.createTestTenant('os-act-prop');
  admin = await tenant.token('admin');
  await grantTemplateReplies(t, tenant);
  await t.startWorker({ pollIntervalMs: 50 });
});
afterAll(async () => {
  await t?.close();
});

const rows = async (sql: string, params: unknown[] = []) => (await t.superuser.query(sql, params)).rows;

/** The shortest path of allowed transitions from `from` to `to` (through non-terminal stages), or null. */
function pathTo(from: DealStage, to: DealStage): DealStage[] | null {
  const previous = new Map<DealStage, DealStage>([[from, from]]);
  const queue: DealStage[] = [from];
  while (queue.length > 0) {
    const stage = queue.shift() as DealStage;
    if (stage === to) break;
    if (DEAL_STAGES[stage].terminal) continue;
    for (const next of DEAL_STAGES[stage].next as readonly DealStage[]) {
      if (!previous.has(next)) {
        previous.set(next, stage);
        queue.push(next);
      }
    }
  }
  if (!previous.has(to) || from === to) return from === to ? [] : null;
  const path: DealStage[] = [];
  for (let stage = to; stage !== from; stage = previous.get(stage) as DealStage) path.unshift(stage);
  return path;
}

type Step = { kind: 'text'; text: string } | { kind: 'move'; to: DealStage };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.constantFrom(...otherTexts).map((text) => ({ kind: 'text' as const, text })), weight: 5 },
  { arbitrary: fc.constantFrom(...optOutTexts).map((text) => ({ kind: 'text' as const, text })), weight: 2 },
  {
    arbitrary: fc.constantFrom<DealStage>('negotiating', 'payment_requested', 'pilot_active', 'proposal_sent', 'qualified').map((to) => ({ kind: 'move' as const, to })),
    weight: 3,
  },
);

async function settle(): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const [open] = await rows(`SELECT count(*)::int AS n FROM flow_runs WHERE tenant_id = $1 AND status IN ('pending', 'running', 'waiting')`, [tenant.id]);
    if (open.n === 0) return;
    await sleep(25);
  }
  throw new Error('flow runs never settled');
}

let phoneCounter = 0;
const stats = { runs: 0, sent: 0, optedOut: 0, humanStageVisits: 0 };

async function checkConversation(steps: Step[], options: { concurrent: boolean }): Promise<void> {
  phoneCounter++;
  const phone = `05577${String(phoneCounter).padStart(5, '0')}`;
  let contactId: string | null = null;
  let dealId: string | null = null;

  for (const step of steps) {
    if (step.kind === 'text' || !dealId) {
      const text = step.kind === 'text' ? step.text : 'ابغى اعرف الاسعار';
      const response = await t.request('POST', '/api/v1/os/process-and-act', {
        token: admin,
        body: { ...(contactId ? { contact_id: contactId } : { contact: { phone, name: 'Fahad' } }), event: { type: 'inbound_message', text, at: SUNDAY_10_RIYADH } },
      });
      expect(response.status, response.text).toBe(200);
      contactId = response.json.done.contact_id;
      dealId = response.json.done.deal_id;
      if (!options.concurrent) await settle();
      continue;
    }
    const [deal] = await rows('SELECT stage FROM deals WHERE id = $1', [dealId]);
    const path = pathTo(deal.stage as DealStage, step.to) ?? [];
    for (const to of path) {
      const moved = await t.request('POST', `/api/v1/deals/${dealId}/transitions`, { token: admin, body: { to } });
      expect(moved.status, moved.text).toBe(200);
    }
    if (!options.concurrent) await settle();
  }

  await settle();
  stats.runs++;

  const changes = await rows(
    `SELECT a.deal_id, a.data->>'to' AS to, a.created_at FROM activities a JOIN deals d ON d.id = a.deal_id
      WHERE d.contact_id = $1 AND a.type = 'stage_changed' ORDER BY a.created_at, a.id`,
    [contactId],
  );
  const optedOutAt: Date | undefined = changes.find((c) => c.to === 'opted_out')?.created_at;
  if (optedOutAt) stats.optedOut++;
  if (changes.some((c) => ['negotiating', 'payment_requested', 'pilot_active'].includes(c.to))) stats.humanStageVisits++;
  const stageAt = (deal: string, at: Date): string =>
    changes.filter((c) => c.deal_id === deal && c.created_at.getTime() <= at.getTime()).at(-1)?.to ?? 'new_lead';

  const sent = await rows(
    `SELECT o.id, o.deal_id, o.sent_at, o.sent_in_stage, o.created_at, o.flow_run_id, d.id AS decision_id, d.created_at AS decided_at, d.approval_request_id, d.standing_approval_id,
            u.token_id, u.standing_approval_id AS token_standing_approval_id
       FROM outbound_messages o
       LEFT JOIN decisions d ON d.flow_run_id = o.flow_run_id AND d.action = 'send_whatsapp'
       LEFT JOIN approval_token_uses u ON u.decision_id = d.id
      WHERE o.contact_id = $1 AND o.status = 'sent'`,
    [contactId],
  );
  stats.sent += sent.length;
  const context = () => JSON.stringify({ steps, changes, sent }, null, 1);
  for (const message of sent) {
    // The stage the send step read while holding the deal and contact locks, which every
    // stage change and opt-out also takes: the truth about when it went out, where
    // transaction-start timestamps (activities' created_at) can mislead under concurrency.
    expect(message.sent_in_stage, `sent in a closed or opted-out stage: ${context()}`).not.toBe('opted_out');
    if (options.concurrent) {
      const humanApprovedConcurrent = message.approval_request_id !== null && message.token_standing_approval_id === null;
      if (!humanApprovedConcurrent) expect(EARLY_STAGES, `sent outside an early stage: ${context()}`).toContain(message.sent_in_stage);
      continue;
    }
    // (a) nothing sent after the opt-out.
    if (optedOutAt) expect(message.sent_at.getTime(), `sent after opt-out: ${context()}`).toBeLessThan(optedOutAt.getTime());
    // (b) sent in an early stage, or approved by a human (an approval request, not a standing approval).
    expect(message.decision_id, `a sent message without a gateway decision: ${context()}`).not.toBeNull();
    const humanApproved = message.approval_request_id !== null && message.token_standing_approval_id === null;
    if (!humanApproved) {
      expect(message.standing_approval_id, context()).not.toBeNull();
      expect(EARLY_STAGES, `decided outside an early stage: ${context()}`).toContain(stageAt(message.deal_id, message.decided_at));
      expect(EARLY_STAGES, `sent outside an early stage: ${context()}`).toContain(stageAt(message.deal_id, message.sent_at));
    }
  }
}

const conversations = fc.array(stepArb, { minLength: 1, maxLength: 6 });

describe('POST /os/process-and-act over random conversations (property)', () => {
  it('one event at a time (the worker settles between events): never sends after opt-out, never sends in a human-approval stage without a human', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(conversations, (steps) => checkConversation(steps, { concurrent: false })),
      { seed: 4_2026, numRuns: 15 },
    );
    // Not vacuous: messages really went out, contacts really opted out, deals really reached human stages.
    expect(stats.sent, JSON.stringify(stats)).toBeGreaterThan(3);
    expect(stats.optedOut, JSON.stringify(stats)).toBeGreaterThan(2);
    expect(stats.humanStageVisits, JSON.stringify(stats)).toBeGreaterThan(1);
  });

  // This property found two races (seed 42026, events fired without waiting for the worker):
  // a reply queued under a standing approval in qualifying went out after manual moves took the
  // deal to payment_requested; and nothing ordered a send against an opt-out committing at the
  // same moment. Both are closed in the send step (see below); the checks use `sent_in_stage`,
  // because transaction-start timestamps (activities' created_at) mislead under concurrency.
  // Fixed: the send step now re-checks stage and opt-out while holding the deal (FOR SHARE)
  // and contact (FOR UPDATE) locks across the provider call, and records the stage it read.
  it('events fired while sends are in flight (concurrent): the same properties', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(conversations, (steps) => checkConversation(steps, { concurrent: true })),
      { seed: 4_2026, numRuns: 15 },
    );
  });
});
