import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAL_STAGES } from '../../src/deals/deal-stages.ts';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

let t: TestApp;
let tenant: TestTenant;
let admin: string;
let contactId: string;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTestTenant('deals');
  admin = await tenant.token('admin');
  const contact = await t.request('POST', '/api/v1/contacts', {
    token: admin,
    body: { phone: '٠٥٥١٢٣٤٥٦٧', name: 'عبدالله', company: 'شركة التجربة', preferred_language: 'ar' },
  });
  expect(contact.status).toBe(201);
  contactId = contact.json.id;
});
afterAll(async () => t?.close());

async function newDeal(body: Record<string, unknown> = {}, token = admin) {
  const response = await t.request('POST', '/api/v1/deals', { token, body: { contact_id: contactId, title: 'Deal', ...body } });
  expect(response.status, response.text).toBe(201);
  return response.json;
}

describe('contacts', () => {
  it('normalises phone numbers to E.164 and refuses duplicates per tenant', async () => {
    const got = await t.request('GET', `/api/v1/contacts/${contactId}`, { token: admin });
    expect(got.json.phone).toBe('+966551234567');
    const dup = await t.request('POST', '/api/v1/contacts', { token: admin, body: { phone: '+966 55 123 4567' } });
    expect(dup.status).toBe(409);
    expect(dup.json.errors).toEqual([{ field: 'phone', message: 'is already used by another contact' }]);
    const bad = await t.request('POST', '/api/v1/contacts', { token: admin, body: { phone: '12345' } });
    expect(bad.status).toBe(422);
    expect(bad.json.errors[0].field).toBe('phone');
  });

  it('updates a contact and filters by phone', async () => {
    const patched = await t.request('PATCH', `/api/v1/contacts/${contactId}`, { token: admin, body: { company: 'Trial Co', preferred_language: 'en' } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ company: 'Trial Co', preferred_language: 'en', name: 'عبدالله' });
    const found = await t.request('GET', '/api/v1/contacts?phone=0551234567', { token: admin });
    expect(found.json.data.map((c: { id: string }) => c.id)).toEqual([contactId]);
  });
});

describe('deals CRUD', () => {
  it('creates at new_lead with a deal_created activity, in SAR and halalas', async () => {
    const deal = await newDeal({ title: 'Annual plan', value_halalas: 1_234_550, expected_close_date: '2026-12-31' });
    expect(deal).toMatchObject({ stage: 'new_lead', value_halalas: 1_234_550, value_sar: '12345.50', currency: 'SAR', expected_close_date: '2026-12-31' });
    const timeline = await t.request('GET', `/api/v1/deals/${deal.id}/activities`, { token: admin });
    expect(timeline.json.data.map((a: { type: string }) => a.type)).toEqual(['deal_created']);
  });

  it('refuses a stage in create or update: stages move only through transitions', async () => {
    const create = await t.request('POST', '/api/v1/deals', { token: admin, body: { contact_id: contactId, title: 'x', stage: 'closed_won' } });
    expect(create.status).toBe(422);
    expect(create.json.errors).toContainEqual({ field: 'stage', message: expect.any(String) });
    const deal = await newDeal();
    const patch = await t.request('PATCH', `/api/v1/deals/${deal.id}`, { token: admin, body: { stage: 'closed_won' } });
    expect(patch.status).toBe(422);
    expect((await t.request('GET', `/api/v1/deals/${deal.id}`, { token: admin })).json.stage).toBe('new_lead');
  });

  it('updates details and records what changed', async () => {
    const deal = await newDeal({ value_halalas: 100 });
    const patched = await t.request('PATCH', `/api/v1/deals/${deal.id}`, { token: admin, body: { value_halalas: 250, title: 'Bigger' } });
    expect(patched.json).toMatchObject({ value_halalas: 250, title: 'Bigger' });
    const timeline = await t.request('GET', `/api/v1/deals/${deal.id}/activities`, { token: admin });
    expect(timeline.json.data[0]).toMatchObject({
      type: 'deal_updated',
      data: { changes: { value_halalas: { from: 100, to: 250 }, title: { from: 'Deal', to: 'Bigger' } } },
    });
  });

  it('validates every field and names each bad one', async () => {
    const response = await t.request('POST', '/api/v1/deals', {
      token: admin,
      body: { contact_id: 'nope', title: '', value_halalas: -5.5, expected_close_date: '31/12/2026' },
    });
    expect(response.status).toBe(422);
    const fields = new Set(response.json.errors.map((e: { field: string }) => e.field));
    expect(fields).toEqual(new Set(['contact_id', 'expected_close_date', 'title', 'value_halalas']));
  });
});

describe('listing with cursor pagination and filters', () => {
  it('pages through every deal exactly once, newest first', async () => {
    for (let i = 0; i < 7; i++) await newDeal({ title: `Page ${i}` });
    const all = await t.superuser.query('SELECT id::text FROM deals ORDER BY id DESC');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { json: { data: Array<{ id: string }>; next_cursor: string | null } } = await t.request(
        'GET',
        `/api/v1/deals?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        { token: admin },
      );
      expect(page.json.data.length).toBeLessThanOrEqual(3);
      seen.push(...page.json.data.map((d) => d.id));
      cursor = page.json.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.rows.map((r) => r.id));
  });

  it('filters by stage (one or several) and owner', async () => {
    const rep = await tenant.addUser(['sales_rep']);
    const owned = await newDeal({ owner_user_id: rep });
    await t.request('POST', `/api/v1/deals/${owned.id}/transitions`, { token: admin, body: { to: 'qualifying' } });
    const byOwner = await t.request('GET', `/api/v1/deals?owner_user_id=${rep}`, { token: admin });
    expect(byOwner.json.data.map((d: { id: string }) => d.id)).toEqual([owned.id]);
    const byStage = await t.request('GET', '/api/v1/deals?stage=qualifying', { token: admin });
    expect(byStage.json.data.every((d: { stage: string }) => d.stage === 'qualifying')).toBe(true);
    expect(byStage.json.data.map((d: { id: string }) => d.id)).toContain(owned.id);
    const several = await t.request('GET', '/api/v1/deals?stage=qualifying,new_lead&limit=200', { token: admin });
    expect(new Set(several.json.data.map((d: { stage: string }) => d.stage))).toEqual(new Set(['qualifying', 'new_lead']));
  });

  it('rejects bad query parameters by name', async () => {
    const response = await t.request('GET', '/api/v1/deals?limit=0&stage=won&cursor=zzz', { token: admin });
    expect(response.status).toBe(422);
    const fields = response.json.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['query.limit', 'query.stage.0']));
    const badCursor = await t.request('GET', '/api/v1/deals?cursor=zzz', { token: admin });
    expect(badCursor.status).toBe(422);
    expect(badCursor.json.errors).toEqual([{ field: 'query.cursor', message: expect.any(String) }]);
  });
});

describe('guarded stage transitions', () => {
  it('moves along allowed transitions and writes the activity in the same transaction', async () => {
    const deal = await newDeal();
    const moved = await t.request('POST', `/api/v1/deals/${deal.id}/transitions`, { token: admin, body: { to: 'qualifying', reason: 'replied' } });
    expect(moved.status).toBe(200);
    expect(moved.json.deal.stage).toBe('qualifying');
    expect(moved.json.activity).toMatchObject({ type: 'stage_changed', data: { from: 'new_lead', to: 'qualifying', reason: 'replied' } });
    const rows = await t.superuser.query(`SELECT type, data FROM activities WHERE deal_id = $1 AND type = 'stage_changed'`, [deal.id]);
    expect(rows.rows).toHaveLength(1);
  });

  it('refuses a transition the lifecycle does not allow, and changes nothing', async () => {
    const deal = await newDeal();
    const response = await t.request('POST', `/api/v1/deals/${deal.id}/transitions`, { token: admin, body: { to: 'closed_won' } });
    expect(response.status).toBe(409);
    expect(response.json).toMatchObject({ code: 'stage_transition_not_allowed', from: 'new_lead', to: 'closed_won' });
    expect(response.json.allowed).toEqual([...DEAL_STAGES.new_lead.next]);
    const activities = await t.superuser.query(`SELECT count(*)::int AS n FROM activities WHERE deal_id = $1`, [deal.id]);
    expect(activities.rows[0].n).toBe(1);
  });

  it('keeps terminal stages terminal', async () => {
    const deal = await newDeal();
    await t.request('POST', `/api/v1/deals/${deal.id}/transitions`, { token: admin, body: { to: 'closed_lost' } });
    const response = await t.request('POST', `/api/v1/deals/${deal.id}/transitions`, { token: admin, body: { to: 'qualifying' } });
    expect(response.status).toBe(409);
    expect(response.json.detail).toMatch(/terminal/);
    // A new deal for the same contact is fine after closed_lost.
    await newDeal({ title: 'Second chance' });
  });

  it('refuses a stale `from` with 409', async () => {
    const deal = await newDeal();
    await t.request('POST', `/api/v1/deals/${deal.id}/transitions`, { token: admin, body: { to: 'qualifying' } });
    const response = await t.request('POST', `/api/v1/deals/${deal.id}/transitions`, { token: admin, body: { from: 'new_lead', to: 'nurturing' } });
    expect(response.status).toBe(409);
    expect(response.json.code).toBe('conflict');
  });

  it('lets exactly one of many concurrent transitions from the same stage win', async () => {
    const deal = await newDeal();
    const targets = ['qualifying', 'nurturing', 'meeting_booked', 'closed_lost', 'qualifying', 'nurturing'];
    const results = await Promise.all(
      targets.map((to) => t.request('POST', `/api/v1/deals/${deal.id}/transitions`, { token: admin, body: { from: 'new_lead', to } })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(targets.length - 1);
    const activities = await t.superuser.query(`SELECT count(*)::int AS n FROM activities WHERE deal_id = $1 AND type = 'stage_changed'`, [deal.id]);
    expect(activities.rows[0].n).toBe(1);
  });
});

describe('sales_rep works only their own deals', () => {
  it('sees, edits and moves own deals; others look absent', async () => {
    const repId = await tenant.addUser(['sales_rep']);
    const rep = await tenant.token('sales_rep', repId);
    const mine = await newDeal({ title: 'mine' }, rep);
    expect(mine.owner_user_id).toBe(repId);
    const theirs = await newDeal({ title: 'not mine' });
    const list = await t.request('GET', '/api/v1/deals?limit=200', { token: rep });
    expect(list.json.data.map((d: { id: string }) => d.id)).toEqual([mine.id]);
    expect((await t.request('GET', `/api/v1/deals/${theirs.id}`, { token: rep })).status).toBe(404);
    expect((await t.request('PATCH', `/api/v1/deals/${theirs.id}`, { token: rep, body: { title: 'x' } })).status).toBe(404);
    expect((await t.request('POST', `/api/v1/deals/${mine.id}/transitions`, { token: rep, body: { to: 'qualifying' } })).status).toBe(200);
    const handOff = await t.request('PATCH', `/api/v1/deals/${mine.id}`, { token: rep, body: { owner_user_id: tenant.adminId } });
    expect(handOff.status).toBe(403);
    const createForOther = await t.request('POST', '/api/v1/deals', { token: rep, body: { contact_id: contactId, title: 'x', owner_user_id: tenant.adminId } });
    expect(createForOther.status).toBe(403);
  });
});
