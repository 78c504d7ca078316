import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

/** Another tenant's resource must look exactly like a missing one (404), and stay untouched. */
let t: TestApp;
let a: TestTenant;
let b: TestTenant;
let tokenA: string;
let bContactId: string;
let bDealId: string;

async function snapshot() {
  const deals = await t.superuser.query('SELECT id, title, stage, value_halalas, owner_user_id, updated_at FROM deals ORDER BY id');
  const contacts = await t.superuser.query('SELECT id, phone_e164, name, updated_at FROM contacts ORDER BY id');
  const activities = await t.superuser.query('SELECT count(*)::int AS n FROM activities');
  const keys = await t.superuser.query('SELECT count(*)::int AS n FROM idempotency_keys');
  return { deals: deals.rows, contacts: contacts.rows, activities: activities.rows[0].n, keys: keys.rows[0].n };
}

beforeAll(async () => {
  t = await createTestApp();
  a = await t.createTestTenant('tenant-a');
  b = await t.createTestTenant('tenant-b');
  tokenA = await a.token('admin');
  const tokenB = await b.token('admin');
  const contact = await t.request('POST', '/api/v1/contacts', { token: tokenB, body: { phone: '0559990001', name: 'B only' } });
  bContactId = contact.json.id;
  const deal = await t.request('POST', '/api/v1/deals', { token: tokenB, body: { contact_id: bContactId, title: 'B deal', value_halalas: 1000 } });
  bDealId = deal.json.id;
});
afterAll(async () => t?.close());

describe('cross-tenant access', () => {
  const cases: Array<[string, string, () => string, unknown?]> = [
    ['GET', 'deal', () => `/api/v1/deals/${bDealId}`],
    ['PATCH', 'deal', () => `/api/v1/deals/${bDealId}`, { title: 'hijacked' }],
    ['POST', 'deal transition', () => `/api/v1/deals/${bDealId}/transitions`, { to: 'qualifying' }],
    ['GET', 'deal timeline', () => `/api/v1/deals/${bDealId}/activities`],
    ['GET', 'contact', () => `/api/v1/contacts/${bContactId}`],
    ['PATCH', 'contact', () => `/api/v1/contacts/${bContactId}`, { name: 'hijacked' }],
  ];
  for (const [method, what, path, body] of cases) {
    it(`${method} another tenant's ${what} → 404 and the database is unchanged`, async () => {
      const before = await snapshot();
      const response = await t.request(method, path(), { token: tokenA, ...(body ? { body, headers: { 'idempotency-key': `x-${what.replaceAll(' ', '-')}` } } : {}) });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.json.code).toBe('not_found');
      expect(await snapshot()).toEqual(before);
    });
  }

  it("creating a deal on another tenant's contact fails as if the contact did not exist", async () => {
    const before = await snapshot();
    const response = await t.request('POST', '/api/v1/deals', { token: tokenA, body: { contact_id: bContactId, title: 'sneaky' } });
    expect(response.status).toBe(422);
    expect(response.json.errors).toEqual([{ field: 'contact_id', message: 'does not exist' }]);
    expect(await snapshot()).toEqual(before);
  });

  it("assigning another tenant's user as owner fails the same way", async () => {
    const contact = await t.request('POST', '/api/v1/contacts', { token: tokenA, body: { phone: '0559990002' } });
    const response = await t.request('POST', '/api/v1/deals', { token: tokenA, body: { contact_id: contact.json.id, title: 'x', owner_user_id: b.adminId } });
    expect(response.status).toBe(422);
    expect(response.json.errors).toEqual([{ field: 'owner_user_id', message: 'does not exist' }]);
  });

  it("lists never show another tenant's rows", async () => {
    const deals = await t.request('GET', '/api/v1/deals', { token: tokenA });
    expect(deals.json.data.map((d: { id: string }) => d.id)).not.toContain(bDealId);
    const contacts = await t.request('GET', '/api/v1/contacts?phone=0559990001', { token: tokenA });
    expect(contacts.json.data).toEqual([]);
  });

  it('the same phone number may exist in two tenants', async () => {
    const response = await t.request('POST', '/api/v1/contacts', { token: tokenA, body: { phone: '+966559990001' } });
    expect(response.status).toBe(201);
  });
});
