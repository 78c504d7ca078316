import { describe, expect, it } from 'vitest';
import { conditionMismatch, ZStandingConditions } from '../../approvals/standing-approvals.ts';
import { DEMO_SEND_WHATSAPP_CONDITIONS } from '../../app/seed-demo.ts';
import { ZSendWhatsApp } from './send-whatsapp.plugin.ts';

const contact_id = '0190a000-0000-7000-8000-000000000001';
const deal_id = '0190a000-0000-7000-8000-000000000002';
// Sunday 22 November 2026, 10:00 in Riyadh.
const sundayMorning = new Date('2026-11-22T07:00:00Z');

describe('send_whatsapp payload', () => {
  it('needs text or a template, and a stage only with its deal', () => {
    expect(ZSendWhatsApp.safeParse({ contact_id, text: 'hi' }).success).toBe(true);
    expect(ZSendWhatsApp.safeParse({ contact_id, template_id: 'welcome.plain.ar' }).success).toBe(true);
    expect(ZSendWhatsApp.safeParse({ contact_id }).success).toBe(false);
    expect(ZSendWhatsApp.safeParse({ contact_id, text: 'hi', stage: 'new_lead' }).success).toBe(false);
    expect(ZSendWhatsApp.safeParse({ contact_id, text: 'hi', to: '+966500000000' }).success).toBe(false);
  });
});

describe("the demo tenant's standing approval for send_whatsapp", () => {
  const conditions = ZStandingConditions.parse(DEMO_SEND_WHATSAPP_CONDITIONS);
  const payload = { contact_id, deal_id, stage: 'new_lead', template_id: 'welcome.plain.ar' };

  it('covers a template reply in an early stage inside business hours', () => {
    expect(ZSendWhatsApp.safeParse(payload).success).toBe(true);
    expect(conditionMismatch(conditions, payload, sundayMorning)).toBeUndefined();
    expect(conditions.max_per_hour).toBe(30);
  });

  it('does not cover free text, later stages, or Friday', () => {
    expect(conditionMismatch(conditions, { ...payload, text: 'free' }, sundayMorning)).toMatch(/templates/);
    expect(conditionMismatch(conditions, { ...payload, stage: 'negotiating' }, sundayMorning)).toMatch(/stage/);
    expect(conditionMismatch(conditions, payload, new Date('2026-11-27T07:00:00Z'))).toMatch(/outside/);
  });
});
