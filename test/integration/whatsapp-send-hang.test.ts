import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonFixture } from '../fixtures/whatsapp-webhooks/load-fixture.ts';
import { startFakeGreenApi, startFakeUltramsg, type FakeGreenApi, type FakeReply, type FakeUltramsg } from '../support/fake-whatsapp/index.ts';
import { createTestApp, readJson, type TestApp, type TestTenant } from '../support/test-app.ts';

/**
 * A provider that hangs (an outage) while the customer says stop. The send must hold no lock
 * while it waits for the provider: the inbound stop is recorded at once and the contact opted
 * out; the hanging send is reported in flight; no provider is called for it after the opt-out.
 * The client timeout is long, so only the test decides when the provider answers.
 */
const GREEN_HOOK_TOKEN = 'green-hook-token-hang';
let t: TestApp;
let tenant: TestTenant;
let admin: string;
let green: FakeGreenApi;
let ultra: FakeUltramsg;
let hookKey: string;

beforeAll(async () => {
  [green, ultra] = await Promise.all([startFakeGreenApi(), startFakeUltramsg()]);
  t = await createTestApp({
    whatsapp: {
      timeoutMs: 120_000,
      providers: {
        'green-api': { instance_id: green.instanceId, token: green.token, api_url: green.url, webhook_token: GREEN_HOOK_TOKEN },
        ultramsg: { instance_id: ultra.instanceId, token: ultra.token, api_url: ultra.url },
      },
    },
  });
  tenant = await t.createTestTenant('wa-hang');
  admin = await tenant.token('admin');
  const manager = await tenant.token('sales_manager', await tenant.addUser(['sales_manager']));
  const grant = await t.request('POST', '/api/v1/standing-approvals', {
    token: manager,
    body: { action: 'send_whatsapp', conditions: {}, expires_at: new Date(Date.now() + 3_600_000).toISOString() },
  });
  expect(grant.status, grant.text).toBe(201);
  const key = await t.request('POST', '/api/v1/whatsapp/webhook-key', { token: admin, body: {} });
  expect(key.status, key.text).toBe(200);
  hookKey = String(key.json.urls['green-api']).split('/').at(-1) as string;
  await t.startWorker({ pollIntervalMs: 50 });
});
afterAll(async () => {
  // The fakes first: a request still held ends (its socket closes), so the worker can stop.
  await Promise.all([green?.close(), ultra?.close()]);
  await t?.close();
});

const rows = async (sql: string, params: unknown[] = []) => (await t.superuser.query(sql, params)).rows;

/** Waits for a run to end, however long the engine's own retries take (no deadline of ours decides the outcome). */
async function finished(runId: string): Promise<{ status: string; output: Record<string, unknown> | null; error: unknown }> {
  for (;;) {
    const [run] = await rows('SELECT status, output, error FROM flow_runs WHERE id = $1', [runId]);
    if (run && ['completed', 'failed', 'cancelled'].includes(run.status)) return run;
    await sleep(50);
  }
}

let phoneSeq = 0;
let messageSeq = 0;

/** A contact with a deal, and a send to it that the first provider holds until `release` is called. */
async function hangingSend(): Promise<{ contactId: string; dealId: string; phone: string; runId: string; outboundId: string; release: (reply: FakeReply) => void }> {
  phoneSeq += 1;
  const local = `05123${String(phoneSeq).padStart(5, '0')}`;
  const contact = await t.request('POST', '/api/v1/contacts', { token: admin, body: { phone: local, name: 'أبو خالد' } });
  expect(contact.status, contact.text).toBe(201);
  const deal = await t.request('POST', '/api/v1/deals', { token: admin, body: { contact_id: contact.json.id, title: 'Hang deal' } });
  expect(deal.status, deal.text).toBe(201);
  let release: (reply: FakeReply) => void = () => undefined;
  green.reset();
  ultra.reset();
  green.respondWith({ held: new Promise<FakeReply>((resolve) => (release = resolve)) });
  const sent = await t.request('POST', '/api/v1/gateway/execute', {
    token: admin,
    body: { action: 'send_whatsapp', payload: { contact_id: contact.json.id, deal_id: deal.json.id, text: 'عرض خاص لك' } },
  });
  expect(sent.status, sent.text).toBe(202);
  const runId = sent.json.flow_run_id as string;
  // The provider has the request and hangs.
  while (green.requests.length === 0) await sleep(20);
  const [outbound] = await rows('SELECT id, status FROM outbound_messages WHERE flow_run_id = $1', [runId]);
  expect(outbound.status).toBe('sending');
  return { contactId: contact.json.id, dealId: deal.json.id, phone: contact.json.phone, runId, outboundId: outbound.id, release };
}

/** The customer writes "stop" through Green API's webhook; returns the inbound run. */
async function inboundStop(phone: string): Promise<string> {
  messageSeq += 1;
  const body = jsonFixture('green-api.text.json') as { idMessage: string; timestamp: number; senderData: Record<string, unknown>; messageData: unknown };
  const chatId = `${phone.slice(1)}@c.us`;
  body.idMessage = `HANGSTOP${String(messageSeq).padStart(8, '0')}`;
  body.timestamp = Math.floor(Date.now() / 1000);
  body.senderData = { ...body.senderData, chatId, sender: chatId };
  body.messageData = { typeMessage: 'textMessage', textMessageData: { textMessage: 'وقفوا الرسايل' } };
  const response = await t.app.request(`/webhooks/whatsapp/green-api/${hookKey}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${GREEN_HOOK_TOKEN}` },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  expect(readJson(text)).toMatchObject({ messages: 1 });
  const [event] = await rows('SELECT flow_run_id FROM whatsapp_webhook_events WHERE provider_message_id = $1', [body.idMessage]);
  expect(event?.flow_run_id).toBeTruthy();
  return event.flow_run_id;
}

describe('a provider that hangs while the customer opts out', () => {
  it('the stop is recorded while the provider hangs, the send is reported in flight, and no other provider is called after it', { timeout: 90_000 }, async () => {
    const send = await hangingSend();
    const inbound = await finished(await inboundStop(send.phone));
    expect(inbound.status, JSON.stringify(inbound.error)).toBe('completed');
    // Still hanging: the opt-out did not wait for the provider.
    expect(green.requests).toHaveLength(1);
    const [deal] = await rows('SELECT stage FROM deals WHERE id = $1', [send.dealId]);
    expect(deal.stage).toBe('opted_out');
    const [change] = await rows(`SELECT data FROM activities WHERE deal_id = $1 AND type = 'stage_changed' AND data->>'to' = 'opted_out'`, [send.dealId]);
    expect(change.data.in_flight_outbound_ids).toEqual([send.outboundId]);

    // The outage ends with a 503: the chain would fall through to Ultramsg, but the opt-out committed first.
    send.release({ status: 503 });
    const run = await finished(send.runId);
    expect(run.status, JSON.stringify(run.error)).toBe('completed');
    expect(run.output).toMatchObject({ outbound_id: send.outboundId, status: 'cancelled', reason: 'opted_out' });
    expect(ultra.requests).toHaveLength(0);
    const [outbound] = await rows('SELECT status, cancel_reason, sent_at FROM outbound_messages WHERE id = $1', [send.outboundId]);
    expect(outbound).toMatchObject({ status: 'cancelled', cancel_reason: 'opted_out', sent_at: null });
    const attempts = await rows('SELECT provider, outcome FROM whatsapp_send_attempts WHERE outbound_id = $1 ORDER BY started_at', [send.outboundId]);
    expect(attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual(['green-api:transient']);
    // Nothing else went to this contact after the opt-out (the stop's own reply is refused too).
    const sent = await rows(`SELECT id FROM outbound_messages WHERE contact_id = $1 AND status IN ('sending', 'sent')`, [send.contactId]);
    expect(sent).toEqual([]);
  });

  it('a send the provider accepts after the opt-out was already handed over: it is recorded sent, as the opt-out reported', { timeout: 90_000 }, async () => {
    const send = await hangingSend();
    const inbound = await finished(await inboundStop(send.phone));
    expect(inbound.status, JSON.stringify(inbound.error)).toBe('completed');
    const [change] = await rows(`SELECT data FROM activities WHERE deal_id = $1 AND type = 'stage_changed' AND data->>'to' = 'opted_out'`, [send.dealId]);
    expect(change.data.in_flight_outbound_ids).toEqual([send.outboundId]);

    send.release({ status: 200, body: { idMessage: 'HANGACCEPTED0001' } });
    const run = await finished(send.runId);
    expect(run.status, JSON.stringify(run.error)).toBe('completed');
    expect(run.output).toMatchObject({ status: 'sent', provider: 'green-api', external_id: 'HANGACCEPTED0001' });
    const [outbound] = await rows('SELECT status, sent_in_stage FROM outbound_messages WHERE id = $1', [send.outboundId]);
    // The stage it was claimed in, under the locks the opt-out also takes.
    expect(outbound).toMatchObject({ status: 'sent', sent_in_stage: 'new_lead' });
    expect(ultra.requests).toHaveLength(0);
  });
});
