import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canTransition, DEAL_STAGE_VALUES, DEAL_STAGES, type DealStage } from '../deals/deal-stages.ts';
import { loadDataset } from '../intents/dataset.ts';
import { shippedIntentClassifier, type IntentClassifier } from '../intents/intent-classifier.ts';
import type { IntentClassification } from '../intents/intents.ts';
import { decideNextStep, type Decision, type DecisionEvent } from './decide.ts';

/**
 * Issue 4's proof, as properties over whole conversations: no sequence of events ever sends
 * to a contact after opt-out, no sequence sends in a human-approval stage without an
 * approval, and terminal stages stay terminal. Each run folds a random conversation through
 * decideNextStep, applying `stage.to` the way /os/process-and-act does.
 */

const dataset = loadDataset();
const optOutTexts = dataset.filter((m) => m.intent === 'opt_out').map((m) => m.text);
/** Messages that say "stop" in another sense (a bus stop, one-stop shop…): must not opt out. */
const stopNegatives = dataset.filter((m) => m.intent !== 'opt_out' && /stop|وقف/i.test(m.text)).map((m) => m.text);
const otherTexts = dataset.filter((m) => m.intent !== 'opt_out').map((m) => m.text);

/** The shipped classifier, memoised: the same text always classifies the same, and runs stay fast. */
const shipped = shippedIntentClassifier();
const memo = new Map<string, IntentClassification>();
const classifier: IntentClassifier = {
  ...shipped,
  classify(text) {
    let hit = memo.get(text);
    if (!hit) memo.set(text, (hit = shipped.classify(text)));
    return hit;
  },
};

const HUMAN_STAGES: readonly DealStage[] = ['negotiating', 'payment_requested', 'pilot_active'];
const isTerminal = (stage: DealStage) => DEAL_STAGES[stage].terminal;

const textArb = fc.oneof(
  { arbitrary: fc.constantFrom(...otherTexts), weight: 6 },
  { arbitrary: fc.constantFrom(...optOutTexts), weight: 1 },
  { arbitrary: fc.constantFrom(...stopNegatives), weight: 1 },
);

const eventArb: fc.Arbitrary<DecisionEvent> = fc.oneof(
  { arbitrary: textArb.map((text) => ({ type: 'inbound_message' as const, text })), weight: 8 },
  { arbitrary: fc.constantFrom('meeting_completed', 'proposal_sent', 'payment_received', 'pilot_completed').map((type) => ({ type })), weight: 2 },
  { arbitrary: fc.constantFrom(...DEAL_STAGE_VALUES).map((to) => ({ type: 'manual_stage_change' as const, data: { to } })), weight: 3 },
);

/** 2026: any instant, so both inside and outside Sun–Thu 09:00–18:00 Riyadh come up. */
const nowArb = fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2026-12-31T23:59:59Z'), noInvalidDate: true });

const conversationArb = fc.record({
  start: fc.constantFrom<DealStage>('new_lead', 'new_lead', 'new_lead', ...DEAL_STAGE_VALUES),
  steps: fc.array(fc.record({ event: eventArb, now: nowArb }), { minLength: 1, maxLength: 30 }),
  english: fc.boolean(),
});

const sends = (decision: Decision) => decision.actions.filter((a) => a.action === 'send_whatsapp');
const sendsWithoutHuman = (decision: Decision) => sends(decision).some((a) => a.mode === 'auto' || a.mode === 'scheduled');

const FC_OPTIONS = { seed: 4_2026, numRuns: 300 } as const;

describe('decideNextStep over whole conversations (property)', () => {
  it('the classifier pools are what the test assumes: stop negatives exist, opt-outs are caught', () => {
    expect(stopNegatives.length).toBeGreaterThan(3);
    expect(optOutTexts.length).toBeGreaterThan(50);
  });

  it('never sends after opt-out; never sends without a human in negotiating, payment_requested or pilot_active; terminal stays terminal', () => {
    const seen = { optOuts: 0, afterOptOut: 0, humanStage: 0, autoSends: 0 };
    fc.assert(
      fc.property(conversationArb, ({ start, steps, english }) => {
        let stage: DealStage = start;
        let optedOut = stage === 'opted_out';
        const contact = { name: 'Fahad', company: 'Acme', preferred_language: english ? ('en' as const) : null };
        for (const { event, now } of steps) {
          const decision = decideNextStep({ stage, event, contact, now, classifier });
          const { from, to } = decision.stage;
          expect(from).toBe(stage);

          // Every move is an allowed transition (process-and-act's guarded transition would refuse others).
          if (to !== from) expect(canTransition(from, to), `${from} → ${to}`).toBe(true);

          // (c) terminal stages never change.
          if (isTerminal(from)) expect(to, `${from} is terminal`).toBe(from);

          // (a) from the opt-out decision on: no reply, nothing automatic, no auto/scheduled send.
          if (to === 'opted_out' && from !== 'opted_out') seen.optOuts++;
          if (optedOut) seen.afterOptOut++;
          if (to === 'opted_out') optedOut = true;
          if (optedOut) {
            expect(to).toBe('opted_out');
            expect(decision.reply).toBeNull();
            expect(decision.auto_send_allowed).toBe(false);
            expect(sendsWithoutHuman(decision), JSON.stringify(decision.actions)).toBe(false);
            for (const send of sends(decision)) expect(send.mode).toBe('blocked');
          }

          // (b) human-approval stages: every outbound waits for a human (or is blocked).
          if (HUMAN_STAGES.includes(from) || HUMAN_STAGES.includes(to)) {
            seen.humanStage++;
            expect(decision.auto_send_allowed).toBe(false);
            expect(sendsWithoutHuman(decision), JSON.stringify(decision.actions)).toBe(false);
          }

          // An automatic send always comes with a templated reply (nothing free-form goes out alone).
          if (decision.auto_send_allowed) expect(decision.reply).not.toBeNull();
          if (sendsWithoutHuman(decision)) seen.autoSends++;

          // Apply the move as /os/process-and-act does.
          if (to === from || canTransition(from, to)) stage = to;
        }
      }),
      FC_OPTIONS,
    );
    // The generator really reaches the interesting cases (not a vacuous pass).
    expect(seen.optOuts).toBeGreaterThan(50);
    expect(seen.afterOptOut).toBeGreaterThan(100);
    expect(seen.humanStage).toBeGreaterThan(50);
    expect(seen.autoSends).toBeGreaterThan(50);
  });

  it('an opt-out text moves every non-terminal stage to opted_out, and a "stop" in another sense never does', () => {
    const nonTerminal = DEAL_STAGE_VALUES.filter((stage) => !isTerminal(stage));
    fc.assert(
      fc.property(fc.constantFrom(...nonTerminal), fc.constantFrom(...optOutTexts), fc.constantFrom(...stopNegatives), nowArb, (stage, optOut, negative, now) => {
        const stop = decideNextStep({ stage, event: { type: 'inbound_message', text: optOut }, contact: {}, now, classifier });
        expect(stop.stage.to, optOut).toBe('opted_out');
        const other = decideNextStep({ stage, event: { type: 'inbound_message', text: negative }, contact: {}, now, classifier });
        expect(other.stage.to, negative).not.toBe('opted_out');
      }),
      FC_OPTIONS,
    );
  });
});
