import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAL_STAGE_VALUES } from '../../src/deals/deal-stages.ts';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

let t: TestApp;
let tenant: TestTenant;
let admin: string;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTestTenant('os');
  admin = await tenant.token('admin');
});
afterAll(async () => t?.close());

const osProcess = (body: unknown, token = admin) => t.request('POST', '/api/v1/os/process', { token, body });

const countEveryTable = () => t.countEveryTable();

async function dealAt(stages: string[], phone: string) {
  const contact = await t.request('POST', '/api/v1/contacts', { token: admin, body: { phone, name: 'Fahad' } });
  expect(contact.status, contact.text).toBe(201);
  const deal = await t.request('POST', '/api/v1/deals', { token: admin, body: { contact_id: contact.json.id, title: 'Deal' } });
  for (const to of stages) {
    const moved = await t.request('POST', `/api/v1/deals/${deal.json.id}/transitions`, { token: admin, body: { to } });
    expect(moved.status, moved.text).toBe(200);
  }
  return { contactId: contact.json.id as string, dealId: deal.json.id as string };
}

describe('GET /api/v1/os/stages', () => {
  it('lists all 13 stages with transitions, triggers, entry actions, templates and questions', async () => {
    const response = await t.request('GET', '/api/v1/os/stages', { token: admin });
    expect(response.status).toBe(200);
    const stages = response.json.data;
    expect(stages.map((s: { stage: string }) => s.stage)).toEqual(DEAL_STAGE_VALUES);
    const byStage = Object.fromEntries(stages.map((s: { stage: string }) => [s.stage, s]));
    expect(byStage.new_lead.transitions).toContain('qualifying');
    expect(byStage.new_lead.triggers.intents).toContainEqual(expect.objectContaining({ intent: 'price_inquiry', to: 'qualifying', reply: 'price' }));
    expect(byStage.meeting_booked.triggers.events).toContainEqual({ event: 'meeting_completed', to: 'meeting_done' });
    expect(byStage.payment_requested.entry_actions).toContainEqual(expect.objectContaining({ action: 'create_charge', class: 'B' }));
    expect(byStage.new_lead.templates.some((tpl: { language: string }) => tpl.language === 'ar')).toBe(true);
    expect(byStage.new_lead.templates.some((tpl: { language: string }) => tpl.language === 'en')).toBe(true);
    expect(byStage.qualifying.qualification_questions.map((q: { id: string }) => q.id).sort()).toEqual(['budget', 'decision_maker', 'need', 'timeline']);
    expect(byStage.negotiating.outbound_needs_human).toBe(true);
    expect(byStage.opted_out).toMatchObject({ terminal: true, transitions: [], outbound_allowed: false, templates: [] });
  });

  it('needs deals:read', async () => {
    expect((await t.request('GET', '/api/v1/os/stages')).status).toBe(401);
    expect((await t.request('GET', '/api/v1/os/stages', { token: await tenant.token('compliance_officer') })).status).toBe(403);
    expect((await t.request('GET', '/api/v1/os/stages', { token: await tenant.token('executive') })).status).toBe(200);
  });
});

describe('POST /api/v1/os/process', () => {
  it('treats a new phone as a new lead: Arabic price question → qualifying with an Arabic reply', async () => {
    const response = await osProcess({ contact: { phone: '0551110001' }, event: { type: 'inbound_message', text: 'السلام عليكم ابغى اعرف الاسعار' } });
    expect(response.status, response.text).toBe(200);
    expect(response.json).toMatchObject({
      intent: 'price_inquiry',
      stage: { from: 'new_lead', to: 'qualifying' },
      reply: { language: 'ar', template: expect.stringMatching(/^price\./) },
      contact_id: null,
      deal_id: null,
      correlation_id: response.headers.get('x-correlation-id'),
    });
    expect(response.json.reply.text).toMatch(/[\u0600-\u06ff]/);
    expect(response.json.actions).toContainEqual(expect.objectContaining({ action: 'send_whatsapp', class: 'B' }));
  });

  it('drafts in negotiating: human approval required', async () => {
    const { contactId, dealId } = await dealAt(['qualifying', 'qualified', 'proposal_sent', 'negotiating'], '0551110002');
    const response = await osProcess({ contact_id: contactId, deal_id: dealId, event: { type: 'inbound_message', text: 'ممكن خصم؟' } });
    expect(response.status, response.text).toBe(200);
    expect(response.json.stage).toMatchObject({ from: 'negotiating', to: 'negotiating' });
    expect(response.json.actions.find((a: { action: string }) => a.action === 'send_whatsapp')).toMatchObject({ mode: 'draft' });
    expect(response.json.human_approval_required).toBe(true);
    expect(response.json.auto_send_allowed).toBe(false);
    // Without deal_id, the contact's open deal is used.
    const byContact = await osProcess({ contact: { phone: '+966551110002' }, event: { type: 'inbound_message', text: 'hello' } });
    expect(byContact.json).toMatchObject({ contact_id: contactId, deal_id: dealId, stage: { from: 'negotiating' } });
  });

  it('opts out on "stop": opted_out, no reply, the send blocked', async () => {
    const { contactId } = await dealAt(['qualifying'], '0551110003');
    const response = await osProcess({ contact_id: contactId, event: { type: 'inbound_message', text: 'stop' } });
    expect(response.json).toMatchObject({ intent: 'opt_out', stage: { from: 'qualifying', to: 'opted_out' }, reply: null, auto_send_allowed: false });
    expect(response.json.actions.find((a: { action: string }) => a.action === 'send_whatsapp')).toMatchObject({ mode: 'blocked' });
  });

  it('keeps an opted-out contact opted out, whatever deal is asked about', async () => {
    const { contactId } = await dealAt(['opted_out'], '0551110004');
    const response = await osProcess({ contact_id: contactId, event: { type: 'inbound_message', text: 'مهتم، ارسل التفاصيل' } });
    expect(response.json).toMatchObject({ stage: { from: 'opted_out', to: 'opted_out' }, reply: null });
  });

  it('changes nothing in the database', async () => {
    const { contactId, dealId } = await dealAt(['qualifying'], '0551110005');
    const before = await countEveryTable();
    const bodies = [
      { contact: { phone: '0551110099', name: 'New' }, event: { type: 'inbound_message', text: 'كم السعر؟' } },
      { contact_id: contactId, deal_id: dealId, event: { type: 'inbound_message', text: 'stop' } },
      { contact_id: contactId, event: { type: 'manual_stage_change', data: { to: 'qualified' } } },
      { contact_id: contactId, event: { type: 'inbound_message', text: 'can we book a demo tomorrow?', at: '2026-01-08T15:00:00Z' } },
    ];
    for (const body of bodies) expect((await osProcess(body)).status).toBe(200);
    expect(await countEveryTable()).toEqual(before);
    const deal = await t.request('GET', `/api/v1/deals/${dealId}`, { token: admin });
    expect(deal.json.stage).toBe('qualifying');
  });

  it('schedules the reply outside business hours', async () => {
    const response = await osProcess({ contact: { phone: '0551110006' }, event: { type: 'inbound_message', text: 'كم السعر؟', at: '2026-01-08T18:00:00+03:00' } });
    expect(response.json.actions.find((a: { action: string }) => a.action === 'send_whatsapp')).toMatchObject({
      mode: 'scheduled',
      scheduled_for: '2026-01-11T06:00:00.000Z',
    });
  });

  it('answers 422 naming each bad field', async () => {
    const badPhone = await osProcess({ contact: { phone: '12345' }, event: { type: 'inbound_message', text: 'hi' } });
    expect(badPhone.status).toBe(422);
    expect(badPhone.json.errors.map((e: { field: string }) => e.field)).toEqual(['contact.phone']);
    const several = await osProcess({ contact_id: 'nope', extra: 1, event: { type: 'dance' } });
    expect(several.status).toBe(422);
    expect(new Set(several.json.errors.map((e: { field: string }) => e.field))).toEqual(new Set(['contact_id', 'extra', 'event.type']));
    const noText = await osProcess({ contact: { phone: '0551110007' }, event: { type: 'inbound_message' } });
    expect(noText.json.errors.map((e: { field: string }) => e.field)).toEqual(['event.text']);
    const neither = await osProcess({ event: { type: 'meeting_completed' } });
    expect(neither.json.errors.map((e: { field: string }) => e.field)).toEqual(['contact']);
  });

  it('needs os:process, and 404s an unknown contact or a deal of another contact', async () => {
    expect((await osProcess({ contact: { phone: '0551110008' }, event: { type: 'inbound_message', text: 'hi' } }, await tenant.token('executive'))).status).toBe(403);
    for (const role of ['sales_manager', 'sales_rep', 'system'] as const) {
      expect((await osProcess({ contact: { phone: '0551110008' }, event: { type: 'inbound_message', text: 'hi' } }, await tenant.token(role))).status).toBe(200);
    }
    expect((await osProcess({ contact_id: '0193a6f2-9d7e-7c1a-8a7e-3b5c0f1d2e4f', event: { type: 'inbound_message', text: 'hi' } })).status).toBe(404);
    const { dealId } = await dealAt([], '0551110009');
    const other = await osProcess({ contact: { phone: '0551110010' }, deal_id: dealId, event: { type: 'inbound_message', text: 'hi' } });
    expect(other.status).toBe(404);
  });
});
