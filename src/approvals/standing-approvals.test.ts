import { describe, expect, it } from 'vitest';
import { slaState } from './approval-sla.ts';
import { conditionMismatch, ZStandingConditions } from './standing-approvals.ts';

const hours = ZStandingConditions.parse({ hours: { days: [0, 1, 2, 3, 4], start: '09:00', end: '18:00' } });

describe('standing approval conditions', () => {
  it('business hours are Riyadh time, Sunday to Thursday', () => {
    // 2026-11-22 is a Sunday. 06:00 UTC = 09:00 Riyadh.
    expect(conditionMismatch(hours, {}, new Date('2026-11-22T06:00:00Z'))).toBeUndefined();
    expect(conditionMismatch(hours, {}, new Date('2026-11-22T05:59:00Z'))).toMatch(/outside Sun–Thu 09:00–18:00 Asia\/Riyadh/);
    expect(conditionMismatch(hours, {}, new Date('2026-11-22T15:00:00Z'))).toMatch(/outside/);
    // Friday noon in Riyadh.
    expect(conditionMismatch(hours, {}, new Date('2026-11-27T09:00:00Z'))).toMatch(/outside/);
  });

  it('stages and template-only', () => {
    const c = ZStandingConditions.parse({ stages: ['new_lead'], template_only: true });
    expect(conditionMismatch(c, { stage: 'new_lead', template: 'welcome' }, new Date())).toBeUndefined();
    expect(conditionMismatch(c, { deal_stage: 'new_lead', template: 'welcome' }, new Date())).toBeUndefined();
    expect(conditionMismatch(c, { stage: 'negotiating', template: 'welcome' }, new Date())).toMatch(/stage/);
    expect(conditionMismatch(c, { stage: 'new_lead', template: 'welcome', text: 'free text' }, new Date())).toMatch(/templates/);
    // send_whatsapp names its template `template_id`.
    expect(conditionMismatch(c, { stage: 'new_lead', template_id: 'welcome.plain.ar' }, new Date())).toBeUndefined();
    expect(conditionMismatch(c, { stage: 'new_lead', template_id: 'welcome.plain.ar', text: 'free text' }, new Date())).toMatch(/templates/);
  });

  it('refuses unknown condition keys', () => {
    expect(ZStandingConditions.safeParse({ anything_goes: true }).success).toBe(false);
  });
});

describe('slaState', () => {
  const created = new Date('2026-11-22T06:00:00Z');
  const due = new Date('2026-11-22T10:00:00Z');
  const row = (status: string, decidedAt: Date | null = null) => ({ status, createdAt: created, slaDueAt: due, decidedAt });
  it('pending → warning at 75 % of the window → breach after the due time', () => {
    expect(slaState(row('pending'), new Date('2026-11-22T08:00:00Z'))).toBe('pending');
    expect(slaState(row('pending'), new Date('2026-11-22T09:00:00Z'))).toBe('warning');
    expect(slaState(row('pending'), new Date('2026-11-22T10:00:01Z'))).toBe('breach');
  });
  it('decided: met, or breach if decided late', () => {
    expect(slaState(row('approved', new Date('2026-11-22T09:59:00Z')), new Date())).toBe('met');
    expect(slaState(row('rejected', new Date('2026-11-22T11:00:00Z')), new Date())).toBe('breach');
  });
});

describe("the business_hours condition follows the tenant's hours", () => {
  it('uses the hours passed in, not fixed ones', () => {
    const conditions = ZStandingConditions.parse({ business_hours: true });
    const saturdayNoonRiyadh = new Date('2026-11-28T09:00:00Z');
    expect(conditionMismatch(conditions, {}, saturdayNoonRiyadh)).toMatch(/outside the tenant's business hours \(Sun–Thu 09:00–18:00 Asia\/Riyadh\)/);
    const weekendDesk = { days: [5, 6], start: '10:00', end: '14:00', timezone: 'Asia/Riyadh' };
    expect(conditionMismatch(conditions, {}, saturdayNoonRiyadh, weekendDesk)).toBeUndefined();
  });
});
