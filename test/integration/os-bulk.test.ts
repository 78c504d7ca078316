import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

let t: TestApp;
let tenant: TestTenant;
let admin: string;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTestTenant('os-bulk');
  admin = await tenant.token('admin');
});
afterAll(async () => t?.close());

const bulk = (body: unknown, token = admin) => t.request('POST', '/api/v1/os/bulk-process', { token, body });

const countEveryTable = () => t.countEveryTable();

describe('POST /api/v1/os/bulk-process', () => {
  it('a mixed batch: each event gets its own result or problem, and nothing changes', async () => {
    const contact = await t.request('POST', '/api/v1/contacts', { token: admin, body: { phone: '0552220001', name: 'Fahad' } });
    expect(contact.status, contact.text).toBe(201);
    const deal = await t.request('POST', '/api/v1/deals', { token: admin, body: { contact_id: contact.json.id, title: 'Deal' } });
    expect(deal.status, deal.text).toBe(201);
    // Another tenant's deal: invisible here, so a 404 problem for that item.
    const other = await t.createTestTenant('os-bulk-other');
    const otherAdmin = await other.token('admin');
    const otherContact = await t.request('POST', '/api/v1/contacts', { token: otherAdmin, body: { phone: '0552220009' } });
    const otherDeal = await t.request('POST', '/api/v1/deals', { token: otherAdmin, body: { contact_id: otherContact.json.id, title: 'Theirs' } });
    expect(otherDeal.status, otherDeal.text).toBe(201);

    const before = await countEveryTable();
    const response = await bulk({
      events: [
        { contact: { phone: '0552220002' }, event: { type: 'inbound_message', text: 'السلام عليكم ابغى اعرف الاسعار' } },
        { contact: { phone: '12345' }, event: { type: 'inbound_message', text: 'hi' } },
        { contact_id: contact.json.id, deal_id: deal.json.id, event: { type: 'inbound_message', text: 'stop' } },
        { contact_id: contact.json.id, deal_id: otherDeal.json.id, event: { type: 'inbound_message', text: 'hi' } },
        { contact_id: contact.json.id, event: { type: 'manual_stage_change', data: { to: 'qualifying' } } },
      ],
    });
    expect(response.status, response.text).toBe(200);
    const { results } = response.json;
    expect(results.map((r: { index: number; ok: boolean }) => [r.index, r.ok])).toEqual([
      [0, true],
      [1, false],
      [2, true],
      [3, false],
      [4, true],
    ]);
    expect(results[0].result).toMatchObject({ intent: 'price_inquiry', stage: { from: 'new_lead', to: 'qualifying' }, contact_id: null });
    expect(results[2].result).toMatchObject({ intent: 'opt_out', stage: { to: 'opted_out' }, deal_id: deal.json.id });
    expect(results[4].result).toMatchObject({ stage: { from: 'new_lead', to: 'qualifying' }, deal_id: deal.json.id });
    expect(results[1].problem).toMatchObject({ type: 'urn:dealix:problem:validation_failed', status: 422, code: 'validation_failed', title: 'Validation failed' });
    expect(results[1].problem.errors.map((e: { field: string }) => e.field)).toEqual(['contact.phone']);
    expect(results[3].problem).toMatchObject({ status: 404, code: 'not_found', type: 'urn:dealix:problem:not_found' });
    expect(results[3].problem.detail).toContain(otherDeal.json.id);
    expect(await countEveryTable()).toEqual(before);
  });

  it('an unknown contact id and a malformed item are problems of their own', async () => {
    const response = await bulk({
      events: [
        { contact_id: '0193a6f2-9d7e-7c1a-8a7e-3b5c0f1d2e4f', event: { type: 'inbound_message', text: 'hi' } },
        'not an object',
        { contact_id: 'nope', extra: 1, event: { type: 'dance' } },
      ],
    });
    expect(response.status, response.text).toBe(200);
    const [unknown, scalar, several] = response.json.results;
    expect(unknown).toMatchObject({ index: 0, ok: false, problem: { code: 'not_found', status: 404 } });
    expect(scalar).toMatchObject({ index: 1, ok: false, problem: { code: 'validation_failed' } });
    expect(new Set(several.problem.errors.map((e: { field: string }) => e.field))).toEqual(new Set(['contact_id', 'extra', 'event.type']));
  });

  it('validates the envelope: 0 or 501 events, or no events, is a 422', async () => {
    const item = { contact: { phone: '0552220003' }, event: { type: 'inbound_message', text: 'hi' } };
    const tooMany = await bulk({ events: Array.from({ length: 501 }, () => item) });
    expect(tooMany.status).toBe(422);
    expect(tooMany.json.errors.map((e: { field: string }) => e.field)).toEqual(['events']);
    expect((await bulk({ events: [] })).status).toBe(422);
    expect((await bulk({})).status).toBe(422);
    const full = await bulk({ events: Array.from({ length: 500 }, () => item) });
    expect(full.status, full.text).toBe(200);
    expect(full.json.results).toHaveLength(500);
    expect(full.json.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
  });

  it('needs os:process', async () => {
    const item = { contact: { phone: '0552220004' }, event: { type: 'inbound_message', text: 'hi' } };
    expect((await bulk({ events: [item] }, await tenant.token('executive'))).status).toBe(403);
    expect((await bulk({ events: [item] }, await tenant.token('sales_rep'))).status).toBe(200);
  });
});
