import { describe, expect, it } from 'vitest';
import { DEAL_STAGE_VALUES, type DealStage } from '../deals/deal-stages.ts';
import { LIFECYCLE } from '../deals/lifecycle.ts';
import { DEFAULT_BUSINESS_HOURS, isWithinBusinessHours, nextBusinessOpening } from '../os-settings/business-hours.ts';
import { decideNextStep, type DecideNextStepInput } from './decide.ts';
import { REPLY_TEMPLATES as DEFAULT_TEMPLATES } from '../deals/lifecycle.ts';

// 2026-01-04 is a Sunday. Riyadh is UTC+3: 09:00 Riyadh = 06:00Z.
const SUNDAY_NOON = new Date('2026-01-04T09:00:00Z');
const OPEN_STAGES = DEAL_STAGE_VALUES.filter((stage) => !LIFECYCLE[stage].terminal);
const TERMINAL_STAGES = DEAL_STAGE_VALUES.filter((stage) => LIFECYCLE[stage].terminal);

function decide(stage: DealStage, text: string, extra: Partial<DecideNextStepInput> = {}) {
  return decideNextStep({ stage, event: { type: 'inbound_message', text }, contact: {}, now: SUNDAY_NOON, ...extra });
}
const sendOf = (decision: ReturnType<typeof decide>) => decision.actions.find((action) => action.action === 'send_whatsapp');

describe('decideNextStep: inbound messages', () => {
  it('answers an Arabic price question from a new lead in Arabic and moves to qualifying, automatically', () => {
    const decision = decide('new_lead', 'السلام عليكم ابغى اعرف الاسعار');
    expect(decision.intent).toBe('price_inquiry');
    expect(decision.stage).toMatchObject({ from: 'new_lead', to: 'qualifying' });
    expect(decision.reply).toMatchObject({ language: 'ar', template: 'price.plain.ar' });
    expect(decision.reply?.text).toMatch(/[\u0600-\u06ff]/);
    expect(sendOf(decision)).toMatchObject({ class: 'B', mode: 'auto', reason: expect.stringContaining('standing approval') });
    expect(decision.auto_send_allowed).toBe(true);
    expect(decision.human_approval_required).toBe(false);
    expect(decision.actions[0]).toMatchObject({ action: 'classify', class: 'A', mode: 'auto' });
  });

  it('answers an English message in English, using the contact name and tenant variables when given', () => {
    const decision = decide('new_lead', 'how much does it cost?', { contact: { name: 'Sara' }, variables: { price_range: '1,500' } });
    expect(decision.intent).toBe('price_inquiry');
    expect(decision.reply).toEqual({
      language: 'en',
      template: 'price.range.en',
      template_version: 0,
      variables: { name: 'Sara', price_range: '1,500' },
      text: 'Hi Sara, our plans start at SAR 1,500 incl. VAT, depending on team size. How many people are on your sales team?',
    });
  });

  it("prefers the contact's preferred language over the message's", () => {
    expect(decide('new_lead', 'how much does it cost?', { contact: { preferred_language: 'ar' } }).reply?.language).toBe('ar');
    expect(decide('new_lead', 'كم السعر؟', { contact: { preferred_language: 'en' } }).reply?.language).toBe('en');
  });

  it('books a meeting request from a new lead; the booking itself is class B and waits for approval', () => {
    const decision = decide('new_lead', 'can we book a demo tomorrow?', { event: { type: 'inbound_message', text: 'can we book a demo tomorrow?', data: { meeting_link: 'https://cal.example/x' } }, contact: { name: 'Omar' } });
    expect(decision.stage.to).toBe('meeting_booked');
    expect(decision.reply).toMatchObject({ template: 'meeting.link.en', text: 'Of course, Omar! Pick a time that suits you here: https://cal.example/x' });
    expect(decision.actions.find((a) => a.action === 'book_meeting')).toMatchObject({ class: 'B', mode: 'draft' });
  });

  it('moves not_now to nurturing with a follow-up timer', () => {
    const decision = decide('qualifying', 'ping me next quarter');
    expect(decision.intent).toBe('not_now');
    expect(decision.stage.to).toBe('nurturing');
    expect(decision.follow_up_at).toBe(new Date(SUNDAY_NOON.getTime() + 30 * 86_400_000).toISOString());
  });

  it('opts out from every open stage: opted_out, no reply, the send blocked', () => {
    for (const stage of OPEN_STAGES) {
      for (const text of ['stop', 'شيلوا رقمي لو سمحت', 'la trasloni']) {
        const decision = decide(stage, text);
        expect(decision.intent, `${stage} ${text}`).toBe('opt_out');
        expect(decision.stage.to).toBe('opted_out');
        expect(decision.reply).toBeNull();
        expect(sendOf(decision)).toMatchObject({ mode: 'blocked' });
        expect(decision.auto_send_allowed).toBe(false);
        expect(decision.actions.every((a) => a.action !== 'send_whatsapp' || a.mode === 'blocked')).toBe(true);
      }
    }
  });

  it('keeps terminal stages terminal and sends nothing from them, whatever is said', () => {
    for (const stage of TERMINAL_STAGES) {
      for (const text of ['مهتم، ارسل التفاصيل', 'send the invoice', 'كم السعر؟', 'hello']) {
        const decision = decide(stage, text);
        expect(decision.stage.to, `${stage} ${text}`).toBe(stage);
        expect(decision.reply).toBeNull();
        expect(sendOf(decision)?.mode).toBe('blocked');
        expect(decision.auto_send_allowed).toBe(false);
      }
      const manual = decideNextStep({ stage, event: { type: 'manual_stage_change', data: { to: 'qualifying' } }, contact: {}, now: SUNDAY_NOON });
      expect(manual.stage.to).toBe(stage);
    }
  });

  it('never sends automatically in negotiating, payment_requested or pilot_active', () => {
    for (const stage of ['negotiating', 'payment_requested', 'pilot_active'] as const) {
      for (const text of ['ممكن خصم؟', 'hello', 'كم السعر؟', 'send the invoice', 'حولت المبلغ', 'can we meet tomorrow?', 'تمام']) {
        const decision = decide(stage, text);
        const send = sendOf(decision);
        if (decision.stage.to === 'opted_out' || LIFECYCLE[decision.stage.to].terminal) expect(send?.mode).toBe('blocked');
        else {
          expect(send?.mode, `${stage} ${text}`).toBe('draft');
          expect(decision.human_approval_required).toBe(true);
        }
        expect(decision.auto_send_allowed).toBe(false);
      }
    }
  });

  it('drafts when a proposal moves into negotiating, and requests payment when the buyer is ready', () => {
    const haggle = decide('proposal_sent', 'ممكن خصم؟');
    expect(haggle.stage.to).toBe('negotiating');
    expect(sendOf(haggle)?.mode).toBe('draft');
    const ready = decide('negotiating', 'send the invoice');
    expect(ready.stage.to).toBe('payment_requested');
    expect(ready.actions.find((a) => a.action === 'create_charge')).toMatchObject({ class: 'B', mode: 'draft' });
  });

  it('drafts free text when no template fits, and when the classifier is unsure', () => {
    const objection = decide('qualified', 'we already use HubSpot');
    expect(objection.intent).toBe('objection');
    expect(objection.reply).toBeNull();
    expect(sendOf(objection)).toMatchObject({ mode: 'draft', reason: expect.stringContaining('no reply template') });
    const unknown = decide('new_lead', 'zzqx');
    expect(unknown.intent).toBe('unknown');
    expect(unknown.stage.to).toBe('new_lead');
    expect(sendOf(unknown)?.mode).toBe('draft');
  });

  it('closes on wrong contact with the reason, and sends nothing to a closed deal', () => {
    const decision = decide('qualifying', 'wrong number');
    expect(decision.stage).toMatchObject({ to: 'closed_lost', reason: expect.stringContaining('wrong_contact') });
    expect(decision.reply).toBeNull();
    expect(sendOf(decision)?.mode).toBe('blocked');
  });
});

describe('decideNextStep: events', () => {
  const event = (stage: DealStage, type: DecideNextStepInput['event']['type'], data?: Record<string, unknown>) =>
    decideNextStep({ stage, event: { type, ...(data ? { data } : {}) }, contact: {}, now: SUNDAY_NOON });

  it('moves on meeting_completed, proposal_sent, payment_received and pilot_completed', () => {
    expect(event('meeting_booked', 'meeting_completed').stage.to).toBe('meeting_done');
    expect(event('meeting_done', 'proposal_sent').stage.to).toBe('proposal_sent');
    expect(event('payment_requested', 'payment_received').stage.to).toBe('pilot_active');
    expect(event('pilot_active', 'pilot_completed').stage.to).toBe('closed_won');
    expect(event('new_lead', 'pilot_completed').stage.to).toBe('new_lead');
    expect(event('meeting_booked', 'meeting_completed').intent).toBeNull();
  });

  it('applies a manual stage change only along an allowed transition', () => {
    expect(event('new_lead', 'manual_stage_change', { to: 'qualifying' }).stage.to).toBe('qualifying');
    const refused = event('new_lead', 'manual_stage_change', { to: 'closed_won' });
    expect(refused.stage).toMatchObject({ to: 'new_lead', reason: expect.stringContaining('not an allowed transition') });
  });
});

describe('business hours (Sun–Thu 09:00–18:00 Asia/Riyadh)', () => {
  const riyadh = (iso: string) => new Date(`${iso}+03:00`);

  it('knows when it is open', () => {
    expect(isWithinBusinessHours(riyadh('2026-01-04T09:00:00'))).toBe(true); // Sunday opening
    expect(isWithinBusinessHours(riyadh('2026-01-04T08:59:59'))).toBe(false);
    expect(isWithinBusinessHours(riyadh('2026-01-08T17:59:59'))).toBe(true); // Thursday
    expect(isWithinBusinessHours(riyadh('2026-01-08T18:00:00'))).toBe(false);
    expect(isWithinBusinessHours(riyadh('2026-01-09T12:00:00'))).toBe(false); // Friday
    expect(isWithinBusinessHours(riyadh('2026-01-10T12:00:00'))).toBe(false); // Saturday
  });

  it('finds the next opening', () => {
    expect(nextBusinessOpening(riyadh('2026-01-08T18:00:00'))).toEqual(riyadh('2026-01-11T09:00:00')); // Thursday 18:00 → Sunday
    expect(nextBusinessOpening(riyadh('2026-01-09T10:00:00'))).toEqual(riyadh('2026-01-11T09:00:00')); // Friday
    expect(nextBusinessOpening(riyadh('2026-01-10T23:30:00'))).toEqual(riyadh('2026-01-11T09:00:00')); // Saturday night
    expect(nextBusinessOpening(riyadh('2026-01-05T02:00:00'))).toEqual(riyadh('2026-01-05T09:00:00')); // Monday early
    expect(nextBusinessOpening(riyadh('2026-01-05T21:00:00'))).toEqual(riyadh('2026-01-06T09:00:00')); // Monday evening
    expect(nextBusinessOpening(riyadh('2026-01-04T23:59:00'))).toEqual(riyadh('2026-01-05T09:00:00')); // 20:59Z Sunday
    const open = riyadh('2026-01-06T11:00:00');
    expect(nextBusinessOpening(open)).toEqual(open);
  });

  it('schedules an automatic reply outside business hours, and leaves drafts as drafts', () => {
    const thursdayEvening = riyadh('2026-01-08T18:00:00');
    const decision = decide('new_lead', 'كم السعر؟', { now: thursdayEvening });
    expect(sendOf(decision)).toMatchObject({ mode: 'scheduled', scheduled_for: '2026-01-11T06:00:00.000Z' });
    expect(decision.auto_send_allowed).toBe(true);
    expect(decision.reply).not.toBeNull();
    const friday = decide('negotiating', 'ممكن خصم؟', { now: riyadh('2026-01-09T12:00:00') });
    expect(sendOf(friday)?.mode).toBe('draft');
    const optOut = decide('new_lead', 'stop', { now: thursdayEvening });
    expect(sendOf(optOut)?.mode).toBe('blocked');
  });

  it("uses the tenant's own hours and templates when it has them", () => {
    const dubai = { days: [1, 2, 3, 4, 5], start: '08:00', end: '17:00', timezone: 'Asia/Dubai' };
    // Sunday 10:00 Riyadh is open by default, closed for a Mon–Fri Dubai tenant (opens Monday 08:00 +04:00).
    const sunday = decide('new_lead', 'كم السعر؟', { now: riyadh('2026-01-11T10:00:00'), businessHours: dubai });
    expect(sendOf(sunday)).toMatchObject({ mode: 'scheduled', scheduled_for: '2026-01-12T04:00:00.000Z' });
    expect(sendOf(sunday)?.reason).toContain('Mon–Fri 08:00–17:00 Asia/Dubai');
    expect(sendOf(decide('new_lead', 'كم السعر؟', { now: riyadh('2026-01-11T10:00:00') }))?.mode).toBe('auto');

    const edited = DEFAULT_TEMPLATES.map((t) => (t.id === 'price.plain.ar' ? { ...t, text: 'أسعارنا على حسب الباقة، وش حجم فريقكم؟', version: 3 } : t));
    const decision = decide('new_lead', 'كم السعر؟', { now: riyadh('2026-01-11T10:00:00'), templates: edited });
    expect(decision.reply).toEqual({ text: 'أسعارنا على حسب الباقة، وش حجم فريقكم؟', language: 'ar', template: 'price.plain.ar', template_version: 3, variables: {} });
  });
});

describe('default business hours', () => {
  it('are Sun–Thu 09:00–18:00 Asia/Riyadh', () => {
    expect(DEFAULT_BUSINESS_HOURS).toEqual({ days: [0, 1, 2, 3, 4], start: '09:00', end: '18:00', timezone: 'Asia/Riyadh' });
  });
});
