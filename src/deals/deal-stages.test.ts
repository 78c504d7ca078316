import { describe, expect, it } from 'vitest';
import { canTransition, DEAL_STAGES, DEAL_STAGE_VALUES, type DealStage } from './deal-stages.ts';

describe('deal lifecycle table', () => {
  it('has exactly the 13 stages of the spec', () => {
    expect(DEAL_STAGE_VALUES).toEqual([
      'new_lead', 'qualifying', 'qualified', 'nurturing', 'meeting_booked', 'meeting_done', 'proposal_sent',
      'negotiating', 'payment_requested', 'pilot_active', 'closed_won', 'closed_lost', 'opted_out',
    ]);
    expect(Object.keys(DEAL_STAGES)).toEqual(DEAL_STAGE_VALUES);
  });

  it('only names known stages as targets, never itself', () => {
    for (const [stage, spec] of Object.entries(DEAL_STAGES)) {
      for (const next of spec.next) {
        expect(DEAL_STAGE_VALUES).toContain(next);
        expect(next).not.toBe(stage);
      }
    }
  });

  it('keeps terminal stages terminal and lets every open stage opt out or be lost', () => {
    for (const stage of DEAL_STAGE_VALUES) {
      const spec = DEAL_STAGES[stage];
      if (spec.terminal) expect(spec.next).toEqual([]);
      else {
        expect(canTransition(stage, 'opted_out')).toBe(true);
        expect(canTransition(stage, 'closed_lost')).toBe(true);
      }
    }
  });

  it('reaches every stage from new_lead', () => {
    const seen = new Set<DealStage>(['new_lead']);
    const queue: DealStage[] = ['new_lead'];
    while (queue.length) for (const next of DEAL_STAGES[queue.shift() as DealStage].next) if (!seen.has(next)) {
      seen.add(next);
      queue.push(next);
    }
    expect([...seen].sort()).toEqual([...DEAL_STAGE_VALUES].sort());
  });
});
