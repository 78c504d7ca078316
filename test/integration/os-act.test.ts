import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantTemplateReplies, SUNDAY_10_RIYADH } from '../support/os-fixture.ts';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

let t: TestApp;
let tenant: TestTenant;
let admin: string;


beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTestTenant('os-act');
  admin = await tenant.token('admin');
  await grantTemplateReplies(t, tenant);
  await t.startWorker({ pollIntervalMs: 100 });
});
afterAll(async () => {
  await t?.close();
});

const act = (body: unknown, headers: Record<string, string> = {}) => t.request('POST', '/api/v1/os/process-and-act', { token: admin, body, headers });
const rows = async (sql: string, params: unknown[]) => (await t.superuser.query(sql, params)).rows;
const dealOf = async (id: string) => (await rows('SELECT * FROM deals WHERE id = $1', [id]))[0];

const runStatus = (runId: string, want: string[], token = admin) => t.waitForRun(runId, want, token);

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

async function countsFor(contactId: string) {
  const n = async (table: string, column = 'contact_id') => Number((await rows(`SELECT count(*) AS n FROM ${table} WHERE ${column} = $1`, [contactId]))[0].n);
  return {
    contacts: await n('contacts', 'id'),
    deals: await n('deals'),
    inbound: await n('inbound_messages'),
    outbound: await n('outbound_messages'),
    drafts: await n('drafts'),
    activities: Number((await rows('SELECT count(*) AS n FROM activities a JOIN deals d ON d.id = a.deal_id WHERE d.contact_id = $1', [contactId]))[0].n),
    decisions: Number((await rows(`SELECT count(*) AS n FROM decisions WHERE action = 'send_whatsapp' AND correlation_id IN (SELECT correlation_id FROM inbound_messages WHERE contact_id = $1)`, [contactId]))[0].n),
  };
}

describe('POST /api/v1/os/process-and-act', () => {
  it('a new phone asking for prices: contact and deal created, new_lead → qualifying, inbound recorded, reply sent through the gateway', async () => {
    const response = await act({ contact: { phone: '0558880001', name: 'عبدالله' }, event: { type: 'inbound_message', text: 'السلام عليكم ابغى اعرف الاسعار', at: SUNDAY_10_RIYADH } });
    expect(response.status, response.text).toBe(200);
    const body = response.json;
    expect(body.intent).toBe('price_inquiry');
    expect(body.stage).toMatchObject({ from: 'new_lead', to: 'qualifying' });
    expect(body.actions).toContainEqual(expect.objectContaining({ action: 'send_whatsapp', mode: 'auto' }));
    const { done } = body;
    expect(done).toMatchObject({ contact_id: body.contact_id, deal_id: body.deal_id, draft_id: null, cancelled_outbound_ids: [] });

    const [contact] = await rows('SELECT * FROM contacts WHERE id = $1', [done.contact_id]);
    expect(contact).toMatchObject({ phone_e164: '+966558880001', name: 'عبدالله', preferred_language: 'ar' });
    expect(await dealOf(done.deal_id)).toMatchObject({ stage: 'qualifying', contact_id: done.contact_id });
    const [inbound] = await rows('SELECT * FROM inbound_messages WHERE id = $1', [done.inbound_message_id]);
    expect(inbound).toMatchObject({ contact_id: done.contact_id, deal_id: done.deal_id, intent: 'price_inquiry', channel: 'whatsapp', correlation_id: body.correlation_id });
    expect(inbound.received_at.toISOString()).toBe('2026-01-11T07:00:00.000Z');
    const activities = await rows('SELECT id, type FROM activities WHERE deal_id = $1 ORDER BY id', [done.deal_id]);
    expect(activities.map((a) => a.type)).toEqual(['deal_created', 'stage_changed']);
    expect(done.activity_ids).toEqual(activities.map((a) => a.id));

    const [decision] = await rows('SELECT * FROM decisions WHERE id = $1', [done.decision_id]);
    expect(decision).toMatchObject({ action: 'send_whatsapp', result: 'accepted', flow_run_id: done.flow_run_id });
    expect(decision.standing_approval_id).not.toBeNull();
    const run = await runStatus(done.flow_run_id, ['completed', 'failed']);
    expect(run.status, JSON.stringify(run)).toBe('completed');
    const outbound = await rows('SELECT * FROM outbound_messages WHERE contact_id = $1', [done.contact_id]);
    expect(outbound).toHaveLength(1);
    expect(outbound[0]).toMatchObject({ status: 'sent', deal_id: done.deal_id, template_id: body.reply.template, to_e164: '+966558880001', language: 'ar' });
  });

  it('an existing deal in negotiating: a draft for a human, nothing sent', async () => {
    const { contactId, dealId } = await dealAt(['qualifying', 'qualified', 'meeting_booked', 'meeting_done', 'proposal_sent', 'negotiating'], '0558880002');
    const response = await act({ contact_id: contactId, event: { type: 'inbound_message', text: 'كم السعر النهائي؟', at: SUNDAY_10_RIYADH } });
    expect(response.status, response.text).toBe(200);
    const { done } = response.json;
    expect(response.json.stage.from).toBe('negotiating');
    expect(done).toMatchObject({ deal_id: dealId, decision_id: null, flow_run_id: null });
    expect(done.draft_id).not.toBeNull();
    const [draft] = await rows('SELECT * FROM drafts WHERE id = $1', [done.draft_id]);
    expect(draft).toMatchObject({ contact_id: contactId, deal_id: dealId, status: 'pending' });
    expect(draft.reason).toContain('human');
    expect(await rows('SELECT * FROM outbound_messages WHERE contact_id = $1', [contactId])).toHaveLength(0);
  });

  it('"stop": the deal goes to opted_out, queued outbound is cancelled in the same transaction, no reply', async () => {
    const { contactId, dealId } = await dealAt(['qualifying'], '0558880003');
    const [queued] = await rows(
      `INSERT INTO outbound_messages (tenant_id, contact_id, deal_id, to_e164, body, idempotency_key) VALUES ($1, $2, $3, '+966558880003', 'queued earlier', 'q-stop') RETURNING id`,
      [tenant.id, contactId, dealId],
    );
    const response = await act({ contact_id: contactId, event: { type: 'inbound_message', text: 'stop', at: SUNDAY_10_RIYADH } });
    expect(response.status, response.text).toBe(200);
    const body = response.json;
    expect(body.intent).toBe('opt_out');
    expect(body.stage).toMatchObject({ from: 'qualifying', to: 'opted_out' });
    expect(body.done).toMatchObject({ deal_id: dealId, cancelled_outbound_ids: [queued.id], decision_id: null, flow_run_id: null, draft_id: null });
    expect(await dealOf(dealId)).toMatchObject({ stage: 'opted_out' });
    const outbound = await rows('SELECT * FROM outbound_messages WHERE contact_id = $1', [contactId]);
    expect(outbound).toEqual([expect.objectContaining({ id: queued.id, status: 'cancelled', cancel_reason: 'opted_out' })]);
    expect(await rows('SELECT * FROM drafts WHERE contact_id = $1', [contactId])).toHaveLength(0);

    // A later message from the same contact: recorded, but nothing is sent or drafted.
    const later = await act({ contact_id: contactId, event: { type: 'inbound_message', text: 'ابغى اعرف الاسعار', at: SUNDAY_10_RIYADH } });
    expect(later.status, later.text).toBe(200);
    expect(later.json.done).toMatchObject({ deal_id: dealId, decision_id: null, draft_id: null });
    expect(await rows('SELECT * FROM outbound_messages WHERE contact_id = $1', [contactId])).toHaveLength(1);
  });

  it('outside business hours: a durable timer, no draft, nothing sent in the same request', async () => {
    // Far in the future, so the timer is still waiting when we look (timed-replies.test.ts lets them fire).
    const response = await act({ contact: { phone: '0558880004' }, event: { type: 'inbound_message', text: 'ابغى اعرف الاسعار', at: '2099-01-09T12:00:00Z' } });
    expect(response.status, response.text).toBe(200);
    expect(response.json.actions).toContainEqual(expect.objectContaining({ action: 'send_whatsapp', mode: 'scheduled' }));
    expect(response.json.done.draft_id).toBeNull();
    expect(response.json.done.timed_reply_run_ids).toHaveLength(1);
    const [run] = await rows('SELECT * FROM flow_runs WHERE id = $1', [response.json.done.timed_reply_run_ids[0]]);
    expect(run).toMatchObject({ flow_name: 'os:timed_reply', input: expect.objectContaining({ kind: 'out_of_hours', fire_at: '2099-01-11T06:00:00.000Z' }) });
    expect(await rows('SELECT * FROM outbound_messages WHERE contact_id = $1', [response.json.done.contact_id])).toHaveLength(0);
  });

  it('retried with the same Idempotency-Key it does nothing twice', async () => {
    const body = { contact: { phone: '0558880005', name: 'Sara' }, event: { type: 'inbound_message', text: 'hi, what are your prices?', at: SUNDAY_10_RIYADH } };
    const first = await act(body, { 'idempotency-key': 'os-act-retry-1' });
    expect(first.status, first.text).toBe(200);
    expect(first.json.done.flow_run_id).not.toBeNull();
    await runStatus(first.json.done.flow_run_id, ['completed', 'failed']);
    const contactId = first.json.done.contact_id;
    const before = await countsFor(contactId);
    expect(before).toMatchObject({ contacts: 1, deals: 1, inbound: 1, outbound: 1, drafts: 0, activities: 2, decisions: 1 });

    const retry = await act(body, { 'idempotency-key': 'os-act-retry-1' });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.json).toEqual(first.json);
    await sleep(300);
    expect(await countsFor(contactId)).toEqual(before);

    // Without the key the same message is a new message: recorded again, on the same deal.
    const again = await act(body);
    expect(again.status).toBe(200);
    expect(again.json.done.deal_id).toBe(first.json.done.deal_id);
    expect(again.json.done.inbound_message_id).not.toBe(first.json.done.inbound_message_id);
  });

  it('when no standing approval fits, the gateway answers requires_approval and the reply becomes a draft', async () => {
    const bare = await t.createTestTenant('os-act-bare');
    const token = await bare.token('admin');
    const response = await t.request('POST', '/api/v1/os/process-and-act', {
      token,
      body: { contact: { phone: '0558880009' }, event: { type: 'inbound_message', text: 'ابغى اعرف الاسعار', at: SUNDAY_10_RIYADH } },
    });
    expect(response.status, response.text).toBe(200);
    const { done } = response.json;
    expect(done.flow_run_id).toBeNull();
    const [decision] = await rows('SELECT * FROM decisions WHERE id = $1', [done.decision_id]);
    expect(decision).toMatchObject({ action: 'send_whatsapp', result: 'requires_approval' });
    const [draft] = await rows('SELECT * FROM drafts WHERE id = $1', [done.draft_id]);
    expect(draft).toMatchObject({ status: 'pending', template_id: response.json.reply.template });
    expect(draft.reason).toContain('requires_approval');
    expect(await rows('SELECT * FROM outbound_messages WHERE contact_id = $1', [done.contact_id])).toHaveLength(0);
  });

  it('needs os:act; a deal of another contact is 404 and changes nothing', async () => {
    const compliance = await tenant.token('compliance_officer');
    const denied = await t.request('POST', '/api/v1/os/process-and-act', { token: compliance, body: { contact: { phone: '0558880006' }, event: { type: 'inbound_message', text: 'hi' } } });
    expect(denied.status).toBe(403);
    const { contactId } = await dealAt([], '0558880007');
    const other = await dealAt([], '0558880008');
    const response = await act({ contact_id: contactId, deal_id: other.dealId, event: { type: 'inbound_message', text: 'hi' } });
    expect(response.status).toBe(404);
    expect(await rows('SELECT * FROM inbound_messages WHERE contact_id = $1', [contactId])).toHaveLength(0);
  });
});
