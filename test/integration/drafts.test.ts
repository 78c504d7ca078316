import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUNDAY_10_RIYADH } from '../support/os-fixture.ts';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

let t: TestApp;
let tenant: TestTenant;
let admin: string;
let manager: string;
let managerId: string;
let otherManager: string;
let rep: string;
let repId: string;

const TO_NEGOTIATING = ['qualifying', 'qualified', 'meeting_booked', 'meeting_done', 'proposal_sent', 'negotiating'];

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTestTenant('drafts');
  admin = await tenant.token('admin');
  managerId = await tenant.addUser(['sales_manager']);
  manager = await tenant.token('sales_manager', managerId);
  otherManager = await tenant.token('sales_manager', await tenant.addUser(['sales_manager']));
  repId = await tenant.addUser(['sales_rep']);
  rep = await tenant.token('sales_rep', repId);
  await t.startWorker({ pollIntervalMs: 100 });
});
afterAll(async () => {
  await t?.close();
});

const rows = async (sql: string, params: unknown[]) => (await t.superuser.query(sql, params)).rows;

const runStatus = (runId: string, want: string[], token = admin) => t.waitForRun(runId, want, token);

/** A deal in negotiating (owned by `ownerUserId` when given) and the draft an inbound message leaves there. */
async function draftInNegotiating(phone: string, ownerUserId?: string) {
  const contact = await t.request('POST', '/api/v1/contacts', { token: admin, body: { phone, name: 'Fahad' } });
  expect(contact.status, contact.text).toBe(201);
  const deal = await t.request('POST', '/api/v1/deals', { token: admin, body: { contact_id: contact.json.id, title: 'Deal', ...(ownerUserId ? { owner_user_id: ownerUserId } : {}) } });
  expect(deal.status, deal.text).toBe(201);
  for (const to of TO_NEGOTIATING) {
    const moved = await t.request('POST', `/api/v1/deals/${deal.json.id}/transitions`, { token: admin, body: { to } });
    expect(moved.status, moved.text).toBe(200);
  }
  const acted = await t.request('POST', '/api/v1/os/process-and-act', {
    token: admin,
    body: { contact_id: contact.json.id, event: { type: 'inbound_message', text: 'كم السعر النهائي؟', at: SUNDAY_10_RIYADH } },
  });
  expect(acted.status, acted.text).toBe(200);
  const draftId = acted.json.done.draft_id as string;
  expect(draftId).toBeTruthy();
  return { contactId: contact.json.id as string, dealId: deal.json.id as string, draftId };
}

describe('drafts', () => {
  it('lists drafts by status; a sales_rep sees only drafts of deals they own', async () => {
    const mine = await draftInNegotiating('0557770001', repId);
    const other = await draftInNegotiating('0557770002');

    const all = await t.request('GET', '/api/v1/drafts?status=pending', { token: manager });
    expect(all.status, all.text).toBe(200);
    const ids = all.json.data.map((d: { id: string }) => d.id);
    expect(ids).toEqual(expect.arrayContaining([mine.draftId, other.draftId]));
    const listed = all.json.data.find((d: { id: string }) => d.id === mine.draftId);
    expect(listed).toMatchObject({ status: 'pending', version: 1, contact_id: mine.contactId, deal_id: mine.dealId });

    const repList = await t.request('GET', '/api/v1/drafts', { token: rep });
    expect(repList.status, repList.text).toBe(200);
    expect(repList.json.data.map((d: { id: string }) => d.id)).toEqual([mine.draftId]);

    const page = await t.request('GET', '/api/v1/drafts?limit=1', { token: manager });
    expect(page.json.data).toHaveLength(1);
    expect(page.json.next_cursor).not.toBeNull();
    const next = await t.request('GET', `/api/v1/drafts?limit=1&cursor=${page.json.next_cursor}`, { token: manager });
    expect(next.json.data[0].id).not.toBe(page.json.data[0].id);

    expect((await t.request('GET', '/api/v1/drafts?status=approved', { token: manager })).json.data.map((d: { id: string }) => d.id)).not.toContain(mine.draftId);
    expect((await t.request('GET', '/api/v1/drafts?status=bogus', { token: manager })).status).toBe(422);
    // A rep may not edit another owner's draft: it is not there for them.
    expect((await t.request('PATCH', `/api/v1/drafts/${other.draftId}`, { token: rep, body: { text: 'x' } })).status).toBe(404);
  });

  it('a sales_rep cannot approve or reject; the edit bumps the version and the approval sends the edited text exactly once', async () => {
    const { contactId, dealId, draftId } = await draftInNegotiating('0557770003', repId);
    expect((await t.request('POST', `/api/v1/drafts/${draftId}/approve`, { token: rep })).status).toBe(403);
    expect((await t.request('POST', `/api/v1/drafts/${draftId}/reject`, { token: rep, body: { reason: 'no' } })).status).toBe(403);

    const edited = await t.request('PATCH', `/api/v1/drafts/${draftId}`, { token: rep, body: { text: 'السعر النهائي 45,000 ريال شامل الضريبة' } });
    expect(edited.status, edited.text).toBe(200);
    expect(edited.json).toMatchObject({ version: 2, text: 'السعر النهائي 45,000 ريال شامل الضريبة', status: 'pending', last_edited_by: repId });
    const again = await t.request('PATCH', `/api/v1/drafts/${draftId}`, { token: manager, body: { text: 'Final price: SAR 45,000 incl. VAT' } });
    expect(again.json.version).toBe(3);

    // Four eyes: the manager wrote the text last, so another approver must let it go.
    const ownText = await t.request('POST', `/api/v1/drafts/${draftId}/approve`, { token: manager });
    expect(ownText.status, ownText.text).toBe(403);
    expect(ownText.json).toMatchObject({ code: 'four_eyes_required', last_edited_by: managerId });
    expect((await rows('SELECT status, last_edited_by FROM drafts WHERE id = $1', [draftId]))[0]).toEqual({ status: 'pending', last_edited_by: managerId });
    expect(await rows('SELECT * FROM approval_requests WHERE requester = $1', [`draft:${draftId}`])).toHaveLength(0);

    const approved = await t.request('POST', `/api/v1/drafts/${draftId}/approve`, { token: otherManager });
    expect(approved.status, approved.text).toBe(200);
    expect(approved.json.draft).toMatchObject({ status: 'approved', version: 3 });
    expect(approved.json.approval_request_id).not.toBeNull();
    const [request] = await rows('SELECT * FROM approval_requests WHERE id = $1', [approved.json.approval_request_id]);
    expect(request).toMatchObject({ status: 'approved', requester: `draft:${draftId}` });
    expect(request.decided_by).not.toBe(request.requester);
    const [decision] = await rows('SELECT * FROM decisions WHERE id = $1', [approved.json.decision_id]);
    expect(decision).toMatchObject({ action: 'send_whatsapp', result: 'accepted', flow_run_id: approved.json.flow_run_id });

    const run = await runStatus(approved.json.flow_run_id, ['completed', 'failed']);
    expect(run.status, JSON.stringify(run)).toBe('completed');

    const twice = await t.request('POST', `/api/v1/drafts/${draftId}/approve`, { token: manager });
    expect(twice.status, twice.text).toBe(409);
    expect((await t.request('PATCH', `/api/v1/drafts/${draftId}`, { token: manager, body: { text: 'late' } })).status).toBe(409);
    await sleep(300);

    const outbound = await rows('SELECT * FROM outbound_messages WHERE contact_id = $1', [contactId]);
    expect(outbound).toHaveLength(1);
    expect(outbound[0]).toMatchObject({ body: 'Final price: SAR 45,000 incl. VAT', status: 'sent', deal_id: dealId });

    const types = (await rows('SELECT type FROM activities WHERE deal_id = $1 ORDER BY id', [dealId])).map((a) => a.type);
    expect(types.filter((type) => type === 'draft_edited')).toHaveLength(2);
    expect(types).toContain('draft_approved');
  });

  it('reject needs a reason; a rejected draft is discarded and cannot be approved', async () => {
    const { contactId, dealId, draftId } = await draftInNegotiating('0557770004');
    expect((await t.request('POST', `/api/v1/drafts/${draftId}/reject`, { token: manager, body: {} })).status).toBe(422);
    expect((await t.request('POST', `/api/v1/drafts/${draftId}/reject`, { token: manager, body: { reason: '  ' } })).status).toBe(422);
    const rejected = await t.request('POST', `/api/v1/drafts/${draftId}/reject`, { token: manager, body: { reason: 'tone is wrong' } });
    expect(rejected.status, rejected.text).toBe(200);
    expect(rejected.json).toMatchObject({ status: 'discarded', decision_reason: 'tone is wrong' });
    expect((await t.request('POST', `/api/v1/drafts/${draftId}/approve`, { token: manager })).status).toBe(409);
    expect(await rows('SELECT * FROM outbound_messages WHERE contact_id = $1', [contactId])).toHaveLength(0);
    expect((await rows(`SELECT type FROM activities WHERE deal_id = $1 AND type = 'draft_rejected'`, [dealId])).length).toBe(1);
  });

  it('an opted-out contact: approve answers 409 and nothing is sent', async () => {
    const { contactId, draftId } = await draftInNegotiating('0557770005');
    const stop = await t.request('POST', '/api/v1/os/process-and-act', { token: admin, body: { contact_id: contactId, event: { type: 'inbound_message', text: 'stop', at: SUNDAY_10_RIYADH } } });
    expect(stop.status, stop.text).toBe(200);
    expect(stop.json.stage.to).toBe('opted_out');
    const approved = await t.request('POST', `/api/v1/drafts/${draftId}/approve`, { token: manager });
    expect(approved.status, approved.text).toBe(409);
    expect((await rows('SELECT status FROM drafts WHERE id = $1', [draftId]))[0].status).toBe('pending');
    await sleep(300);
    expect(await rows('SELECT * FROM outbound_messages WHERE contact_id = $1', [contactId])).toHaveLength(0);
    expect(await rows(`SELECT * FROM approval_requests WHERE requester = $1`, [`draft:${draftId}`])).toHaveLength(0);
  });

  it("another tenant's draft is not found", async () => {
    const { draftId } = await draftInNegotiating('0557770006');
    const otherTenant = await t.createTestTenant('drafts-other');
    const otherAdmin = await otherTenant.token('admin');
    expect((await t.request('POST', `/api/v1/drafts/${draftId}/approve`, { token: otherAdmin })).status).toBe(404);
    expect((await t.request('PATCH', `/api/v1/drafts/${draftId}`, { token: otherAdmin, body: { text: 'x' } })).status).toBe(404);
    expect((await t.request('POST', `/api/v1/drafts/${draftId}/reject`, { token: otherAdmin, body: { reason: 'x' } })).status).toBe(404);
    expect((await t.request('GET', '/api/v1/drafts', { token: otherAdmin })).json.data.map((d: { id: string }) => d.id)).not.toContain(draftId);
  });
});
