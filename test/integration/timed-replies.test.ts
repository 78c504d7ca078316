import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantTemplateReplies, SUNDAY_10_RIYADH } from '../support/os-fixture.ts';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

// Timed replies read business hours and ask the gateway on this clock: Sunday 10:00 Riyadh,
// open. The engine's own timers use the real clock, so a fire time in the past fires at once
// and one in 2099 stays waiting.
let t: TestApp;
let tenant: TestTenant;
let admin: string;

beforeAll(async () => {
  t = await createTestApp({ clock: () => new Date(SUNDAY_10_RIYADH) });
  tenant = await t.createTestTenant('timed-replies');
  admin = await tenant.token('admin');
  await grantTemplateReplies(t, tenant);
});
afterAll(async () => t?.close());

const FRIDAY_NOON_RIYADH = '2026-01-09T09:00:00Z';
const FRIDAY_NOON_2099 = '2099-01-09T09:00:00Z';
const act = (phone: string, text: string, at: string, name = 'Noura') =>
  t.request('POST', '/api/v1/os/process-and-act', { token: admin, body: { contact: { phone, name }, event: { type: 'inbound_message', text, at } } });
const rows = async (sql: string, params: unknown[]) => (await t.superuser.query(sql, params)).rows;
const run = async (id: string) => (await rows('SELECT * FROM flow_runs WHERE id = $1', [id]))[0];

describe('timed replies before any worker runs', () => {
  it('opt-out cancels every pending timer of the contact in its own transaction', async () => {
    const first = await act('0557770001', 'كم الاسعار؟', FRIDAY_NOON_2099);
    expect(first.status, first.text).toBe(200);
    const [timer] = first.json.done.timed_reply_run_ids;
    expect(timer).toBeDefined();

    const stop = await act('0557770001', 'لا تراسلوني مرة ثانية', FRIDAY_NOON_2099);
    expect(stop.json.stage.to).toBe('opted_out');
    expect(stop.json.done.cancelled_timed_reply_run_ids).toEqual([timer]);
    expect((await run(timer)).cancel_requested).toBe(true);
  });

  it('a person moving the deal to opted_out stops its timers and queued messages in the same transaction too', async () => {
    const first = await act('0557770009', 'كم الاسعار؟', FRIDAY_NOON_2099);
    const [timer] = first.json.done.timed_reply_run_ids;
    const moved = await t.request('POST', `/api/v1/deals/${first.json.done.deal_id}/transitions`, { token: admin, body: { to: 'opted_out', reason: 'asked by phone' } });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.json).toMatchObject({ cancelled_timed_reply_run_ids: [timer], cancelled_outbound_ids: [] });
    expect(moved.json.activity.data).toMatchObject({ cancelled_timed_replies: 1, cancelled_outbound: 0 });
    expect((await run(timer)).cancel_requested).toBe(true);
  });

  it('a newer message supersedes the deal’s earlier timer: three messages overnight, one reply', async () => {
    const ids: string[] = [];
    const cancelled: string[] = [];
    for (const text of ['السلام عليكم', 'كم السعر؟', 'ابغى اعرف التفاصيل']) {
      const response = await act('0557770002', text, FRIDAY_NOON_2099);
      expect(response.status, response.text).toBe(200);
      ids.push(...response.json.done.timed_reply_run_ids);
      cancelled.push(...response.json.done.cancelled_timed_reply_run_ids);
    }
    expect(ids).toHaveLength(3);
    expect(cancelled).toEqual(ids.slice(0, 2));
    const live = await rows(`SELECT id FROM flow_runs WHERE flow_name = 'os:timed_reply' AND input->>'contact_id' = $1 AND NOT cancel_requested`, [
      (await rows('SELECT id FROM contacts WHERE phone_e164 = $1', ['+966557770002']))[0].id,
    ]);
    expect(live.map((row) => row.id)).toEqual([ids[2]]);
  });

  it('a follow-up whose deal moved on before it fires sends nothing', async () => {
    // not_now on 2026-01-04 → nurturing, follow-up due 30 days later (already past: fires as soon as a worker runs).
    const notNow = await act('0557770003', 'مو الحين، يمكن بعد شهرين', '2026-01-04T07:00:00Z');
    expect(notNow.json.stage.to).toBe('nurturing');
    const dealId = notNow.json.done.deal_id;
    const kinds = await Promise.all(notNow.json.done.timed_reply_run_ids.map(async (id: string) => (await run(id)).input.kind));
    expect(kinds).toContain('follow_up');
    const moved = await t.request('POST', `/api/v1/deals/${dealId}/transitions`, { token: admin, body: { to: 'qualifying', reason: 'called us back' } });
    expect(moved.status, moved.text).toBe(200);
    stale.push({ dealId, runIds: notNow.json.done.timed_reply_run_ids });
  });
});
const stale: Array<{ dealId: string; runIds: string[] }> = [];

describe('timed replies once the worker runs', () => {
  beforeAll(async () => {
    await t.startWorker({ pollIntervalMs: 50 });
  });

  it('the stale follow-up completes as skipped and nothing went to the contact', async () => {
    const [{ dealId, runIds }] = stale as [{ dealId: string; runIds: string[] }];
    for (const id of runIds) await t.waitForRun(id, ['completed'], admin);
    const outputs = await Promise.all(runIds.map(async (id) => (await run(id)).output));
    expect(outputs).toContainEqual({ status: 'skipped', reason: 'the deal moved from nurturing to qualifying' });
    expect(await rows('SELECT * FROM outbound_messages WHERE deal_id = $1', [dealId])).toHaveLength(0);
  });

  it('an out-of-hours reply goes out at the opening: the decided text, through the gateway under the standing approval', async () => {
    const response = await act('0557770004', 'كم الاسعار؟', FRIDAY_NOON_RIYADH, 'نورة');
    expect(response.json.actions).toContainEqual(expect.objectContaining({ mode: 'scheduled', scheduled_for: '2026-01-11T06:00:00.000Z' }));
    const [timer] = response.json.done.timed_reply_run_ids;
    await t.waitForRun(timer, ['completed'], admin);
    const output = (await run(timer)).output;
    expect(output).toMatchObject({ status: 'sent_to_gateway', decision_id: expect.any(String), flow_run_id: expect.any(String) });
    await t.waitForRun(output.flow_run_id, ['completed'], admin);
    const [decision] = await rows('SELECT * FROM decisions WHERE id = $1', [output.decision_id]);
    expect(decision).toMatchObject({ action: 'send_whatsapp', result: 'accepted', standing_approval_id: expect.any(String) });
    const sent = await rows('SELECT * FROM outbound_messages WHERE deal_id = $1', [response.json.done.deal_id]);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ status: 'sent', body: response.json.reply.text, template_id: response.json.reply.template, template_version: 0 });
  });

  it('not_now: the follow-up template goes out when the timer fires, once', async () => {
    const notNow = await act('0557770005', 'not now, maybe next quarter', '2026-01-04T07:00:00Z', 'Omar');
    expect(notNow.json.stage.to).toBe('nurturing');
    expect(notNow.json.follow_up_at).toBe('2026-02-03T07:00:00.000Z');
    const sends: string[] = [notNow.json.done.flow_run_id];
    for (const id of notNow.json.done.timed_reply_run_ids) {
      await t.waitForRun(id, ['completed'], admin);
      sends.push((await run(id)).output.flow_run_id);
    }
    for (const id of sends) await t.waitForRun(id, ['completed'], admin);
    const sent = await rows('SELECT body, template_id, status FROM outbound_messages WHERE deal_id = $1 ORDER BY created_at', [notNow.json.done.deal_id]);
    // The not_now acknowledgement (Sunday 10:00 was open: sent at once) and the follow-up.
    expect(sent.map((row) => row.template_id)).toEqual(['not_now.named.en', 'follow_up.named.en']);
    expect(sent[1]).toMatchObject({ status: 'sent', body: 'Hi Omar, hope all is well! Is now a good time to pick up where we left off?' });
  });

  it('a timer the gateway refuses leaves one draft linked to the approval request; approving the draft withdraws that request', async () => {
    const other = await t.createTestTenant('timed-replies-no-grant');
    const otherAdmin = await other.token('admin');
    const response = await t.request('POST', '/api/v1/os/process-and-act', {
      token: otherAdmin,
      body: { contact: { phone: '0557770006', name: 'Saad' }, event: { type: 'inbound_message', text: 'كم الاسعار؟', at: FRIDAY_NOON_RIYADH } },
    });
    const [timer] = response.json.done.timed_reply_run_ids;
    await t.waitForRun(timer, ['completed'], otherAdmin);
    const output = (await run(timer)).output;
    expect(output).toMatchObject({ status: 'drafted', reason: expect.stringContaining('requires_approval') });
    const [draft] = await rows('SELECT * FROM drafts WHERE id = $1', [output.draft_id]);
    expect(draft).toMatchObject({ origin_run_id: timer, approval_request_id: expect.any(String), text: response.json.reply.text, status: 'pending' });

    const otherManager = await other.token('sales_manager', await other.addUser(['sales_manager']));
    const approved = await t.request('POST', `/api/v1/drafts/${draft.id}/approve`, { token: otherManager });
    expect(approved.status, approved.text).toBe(200);
    const [request] = await rows('SELECT status, decision_reason FROM approval_requests WHERE id = $1', [draft.approval_request_id]);
    expect(request).toEqual({ status: 'withdrawn', decision_reason: `handled by draft ${draft.id}, approved and sent` });
    const pending = await t.request('GET', '/api/v1/approvals?status=pending', { token: otherManager });
    expect(pending.json.data.map((item: { id: string }) => item.id)).not.toContain(draft.approval_request_id);
  });
});

describe("the tenant's business hours and templates decide", () => {
  it('hours edited to a Friday–Saturday desk: a Friday message is answered at once, a Sunday one waits', async () => {
    const weekend = await t.createTestTenant('timed-replies-weekend');
    const weekendAdmin = await weekend.token('admin');
    await grantTemplateReplies(t, weekend);
    const put = await t.request('PUT', '/api/v1/os/settings', {
      token: weekendAdmin,
      body: { business_hours: { days: [5, 6], start: '10:00', end: '22:00', timezone: 'Asia/Riyadh' }, expected_version: 0 },
    });
    expect(put.status, put.text).toBe(200);
    const decide = (at: string) =>
      t.request('POST', '/api/v1/os/process', { token: weekendAdmin, body: { contact: { phone: '0557770007' }, event: { type: 'inbound_message', text: 'كم السعر؟', at } } });
    const friday = await decide(FRIDAY_NOON_RIYADH);
    expect(friday.json.actions.find((a: { action: string }) => a.action === 'send_whatsapp').mode).toBe('auto');
    const sunday = await decide(SUNDAY_10_RIYADH);
    expect(sunday.json.actions.find((a: { action: string }) => a.action === 'send_whatsapp')).toMatchObject({
      mode: 'scheduled',
      scheduled_for: '2026-01-16T07:00:00.000Z',
      reason: expect.stringContaining('Fri–Sat 10:00–22:00 Asia/Riyadh'),
    });
  });

  it("an edited template is what goes out, at the version the decision saw", async () => {
    const edit = await t.request('PUT', '/api/v1/os/templates/price.plain.ar', {
      token: admin,
      body: { text: 'هلا {{name}}، باقاتنا تبدأ حسب حجم الفريق. كم عددكم؟', note: 'shorter' },
    });
    expect(edit.status, edit.text).toBe(200);
    expect(edit.json).toMatchObject({ version: 1, variables: ['name'] });
    const response = await act('0557770008', 'كم الاسعار؟', SUNDAY_10_RIYADH, 'هند');
    expect(response.json.reply).toMatchObject({ template: 'price.plain.ar', template_version: 1, text: 'هلا هند، باقاتنا تبدأ حسب حجم الفريق. كم عددكم؟' });
    // Edited again before the send runs: the approved version still goes out.
    await t.request('PUT', '/api/v1/os/templates/price.plain.ar', { token: admin, body: { text: 'نص جديد تماماً' } });
    await t.waitForRun(response.json.done.flow_run_id, ['completed'], admin);
    const [sent] = await rows('SELECT body, template_version FROM outbound_messages WHERE flow_run_id = $1', [response.json.done.flow_run_id]);
    expect(sent).toEqual({ body: 'هلا هند، باقاتنا تبدأ حسب حجم الفريق. كم عددكم؟', template_version: 1 });
  });
});
