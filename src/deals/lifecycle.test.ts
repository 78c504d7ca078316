import { describe, expect, it } from 'vitest';
import { INTENT_VALUES } from '../intents/intents.ts';
import { canTransition, DEAL_STAGES, DEAL_STAGE_VALUES } from './deal-stages.ts';
import {
  chooseTemplate,
  LIFECYCLE,
  MissingTemplateVariableError,
  REPLY_TEMPLATES,
  renderTemplate,
  TEMPLATE_LANGUAGES,
  templatesFor,
  templateVariables,
} from './lifecycle.ts';

describe('the lifecycle table', () => {
  it('extends DEAL_STAGES without changing it: same stages, same transitions', () => {
    expect(Object.keys(LIFECYCLE)).toEqual(DEAL_STAGE_VALUES);
    for (const stage of DEAL_STAGE_VALUES) {
      expect(LIFECYCLE[stage].next).toEqual(DEAL_STAGES[stage].next);
      expect(LIFECYCLE[stage].terminal).toBe(DEAL_STAGES[stage].terminal);
      expect(LIFECYCLE[stage].doc.length).toBeGreaterThan(0);
    }
  });

  it('maps intents and events only to allowed transitions (or staying put)', () => {
    for (const stage of DEAL_STAGE_VALUES) {
      for (const [intent, rule] of Object.entries(LIFECYCLE[stage].intents)) {
        expect(INTENT_VALUES, intent).toContain(intent);
        if (rule.to !== stage) expect(canTransition(stage, rule.to), `${stage} + ${intent} → ${rule.to}`).toBe(true);
      }
      for (const [event, to] of Object.entries(LIFECYCLE[stage].events)) {
        expect(canTransition(stage, to), `${stage} + ${event} → ${to}`).toBe(true);
      }
    }
  });

  it('answers every intent in every open stage, and none in terminal ones', () => {
    for (const stage of DEAL_STAGE_VALUES) {
      const handled = Object.keys(LIFECYCLE[stage].intents).sort();
      expect(handled, stage).toEqual(LIFECYCLE[stage].terminal ? [] : [...INTENT_VALUES].sort());
    }
  });

  it('sends opt_out to opted_out from every open stage, and wrong_contact / not_interested to closed_lost', () => {
    for (const stage of DEAL_STAGE_VALUES.filter((s) => !LIFECYCLE[s].terminal)) {
      expect(LIFECYCLE[stage].intents.opt_out?.to).toBe('opted_out');
      expect(LIFECYCLE[stage].intents.wrong_contact).toMatchObject({ to: 'closed_lost', reason: expect.stringContaining('wrong_contact') });
      expect(LIFECYCLE[stage].intents.not_interested?.to).toBe('closed_lost');
    }
  });

  it('follows the spec examples', () => {
    expect(LIFECYCLE.new_lead.intents.interested?.to).toBe('qualifying');
    expect(LIFECYCLE.new_lead.intents.price_inquiry).toMatchObject({ to: 'qualifying', reply: 'price' });
    expect(LIFECYCLE.new_lead.intents.meeting_request?.to).toBe('meeting_booked');
    expect(LIFECYCLE.new_lead.intents.not_now).toMatchObject({ to: 'nurturing', followUpDays: expect.any(Number) });
    expect(LIFECYCLE.proposal_sent.intents.negotiation?.to).toBe('negotiating');
    expect(LIFECYCLE.proposal_sent.intents.ready_to_buy?.to).toBe('payment_requested');
    expect(LIFECYCLE.negotiating.intents.ready_to_buy?.to).toBe('payment_requested');
    expect(LIFECYCLE.payment_requested.intents.payment_confirmation?.to).toBe('pilot_active');
    expect(LIFECYCLE.meeting_booked.events.meeting_completed).toBe('meeting_done');
    expect(LIFECYCLE.payment_requested.events.payment_received).toBe('pilot_active');
    expect(LIFECYCLE.pilot_active.events.pilot_completed).toBe('closed_won');
    expect(LIFECYCLE.meeting_done.events.proposal_sent).toBe('proposal_sent');
  });

  it('needs a human for outbound exactly in negotiating, payment_requested and pilot_active; terminal stages send nothing', () => {
    expect(DEAL_STAGE_VALUES.filter((s) => LIFECYCLE[s].outboundNeedsHuman)).toEqual(['negotiating', 'payment_requested', 'pilot_active']);
    expect(DEAL_STAGE_VALUES.filter((s) => !LIFECYCLE[s].outboundAllowed)).toEqual(['closed_won', 'closed_lost', 'opted_out']);
    for (const stage of ['closed_won', 'closed_lost', 'opted_out'] as const) expect(LIFECYCLE[stage].replies).toEqual([]);
    for (const stage of ['negotiating', 'payment_requested', 'pilot_active'] as const) {
      expect(Object.values(LIFECYCLE[stage].intents).filter((rule) => rule.reply)).toEqual([]);
    }
  });

  it('asks the four qualification questions in qualifying, in Arabic and English', () => {
    expect(LIFECYCLE.qualifying.qualificationQuestions.map((q) => q.id).sort()).toEqual(['budget', 'decision_maker', 'need', 'timeline']);
    for (const question of LIFECYCLE.qualifying.qualificationQuestions) {
      expect(question.ar).toMatch(/[\u0600-\u06ff]/);
      expect(question.en).toMatch(/^[\x20-\x7e]+$/);
    }
  });

  it('names only replies that exist in both languages, and each stage lists the replies its rules use', () => {
    for (const stage of DEAL_STAGE_VALUES) {
      const used = Object.values(LIFECYCLE[stage].intents).flatMap((rule) => (rule.reply ? [rule.reply] : []));
      for (const purpose of used) expect(LIFECYCLE[stage].replies, `${stage}: ${purpose}`).toContain(purpose);
      for (const purpose of LIFECYCLE[stage].replies) {
        for (const language of TEMPLATE_LANGUAGES) expect(templatesFor([purpose]).some((t) => t.language === language), `${purpose} ${language}`).toBe(true);
      }
    }
  });

  it('has unique template ids, declared variables that match the text, and Arabic in Arabic templates', () => {
    expect(new Set(REPLY_TEMPLATES.map((t) => t.id)).size).toBe(REPLY_TEMPLATES.length);
    for (const t of REPLY_TEMPLATES) {
      expect(t.variables).toEqual(templateVariables(t.text));
      if (t.language === 'ar') expect(t.text).toMatch(/[\u0600-\u06ff]/);
    }
  });

  it('names entry actions with a doc line', () => {
    for (const stage of DEAL_STAGE_VALUES) for (const entry of LIFECYCLE[stage].entryActions) expect(entry.doc.length, `${stage} ${entry.action}`).toBeGreaterThan(0);
    expect(LIFECYCLE.payment_requested.entryActions.map((e) => e.action)).toContain('create_charge');
    expect(LIFECYCLE.meeting_booked.entryActions.map((e) => e.action)).toContain('book_meeting');
  });
});

describe('renderTemplate', () => {
  const price = REPLY_TEMPLATES.find((t) => t.id === 'price.range.ar');
  if (!price) throw new Error('price.range.ar missing');

  it('substitutes every variable', () => {
    expect(renderTemplate(price, { name: 'عبدالله', price_range: '1,500' })).toBe(
      'هلا عبدالله، أسعارنا تبدأ من 1,500 ريال شامل الضريبة، وتختلف حسب حجم الفريق. كم عدد أفراد فريق المبيعات عندكم؟',
    );
  });

  it('refuses a missing or blank variable instead of leaving a hole', () => {
    expect(() => renderTemplate(price, { name: 'عبدالله' })).toThrow(MissingTemplateVariableError);
    try {
      renderTemplate(price, { name: '  ' });
    } catch (error) {
      expect(error).toMatchObject({ name: 'MissingTemplateVariableError', templateId: 'price.range.ar', missing: ['name', 'price_range'] });
    }
  });

  it('chooses the first variant whose variables are known, or says what is missing', () => {
    expect(chooseTemplate('price', 'en', { name: 'Sara', price_range: '999' })).toMatchObject({ usable: true, template: { id: 'price.range.en' } });
    expect(chooseTemplate('price', 'en', { name: 'Sara' })).toMatchObject({ usable: true, template: { id: 'price.plain.en' } });
    expect(chooseTemplate('meeting_confirmation', 'ar', { name: 'سارة' })).toEqual({
      usable: false,
      tried: ['meeting_confirmation.link.ar'],
      missing: ['meeting_time', 'meeting_link'],
    });
  });
});
