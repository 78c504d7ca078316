import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unsafePurgeExpiredIdempotencyKeys } from '../../src/tenancy/tenants.store.ts';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

let t: TestApp;
let tenant: TestTenant;
let token: string;
let contactId: string;

beforeAll(async () => {
  t = await createTestApp({ lockTimeoutMs: 400, poolMax: 20 });
  // A mutating route without a permission guard (before the first request: the router is built then).
  t.app.post('/api/v1/test-unguarded', (c) => c.json({ ok: true }, 201));
  tenant = await t.createTestTenant('idem');
  token = await tenant.token('admin');
  contactId = (await t.request('POST', '/api/v1/contacts', { token, body: { phone: '0557770001' } })).json.id;
});
afterAll(async () => t?.close());

const countDeals = async (title: string) =>
  (await t.superuser.query('SELECT count(*)::int AS n FROM deals WHERE title = $1', [title])).rows[0].n as number;
const post = (key: string, body: unknown, path = '/api/v1/deals', auth = token) =>
  t.request('POST', path, { token: auth, body, headers: { 'idempotency-key': key } });

describe('Idempotency-Key', () => {
  it('replays the stored status and body for the same key and request', async () => {
    const body = { contact_id: contactId, title: 'replay-1', value_halalas: 500 };
    const first = await post('key-replay-1', body);
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const second = await post('key-replay-1', body);
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.json).toEqual(first.json);
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(await countDeals('replay-1')).toBe(1);
  });

  it('treats the same JSON with other key order and spacing as the same request (RFC 8785)', async () => {
    const first = await post('key-canonical', { contact_id: contactId, title: 'canonical', value_halalas: 7 });
    const reordered = await t.request('POST', '/api/v1/deals', {
      token,
      rawBody: `{ "value_halalas": 7,\n  "title": "canonical", "contact_id": "${contactId}" }`,
      headers: { 'idempotency-key': 'key-canonical', 'content-type': 'application/json' },
    });
    expect(reordered.status).toBe(201);
    expect(reordered.headers.get('idempotent-replayed')).toBe('true');
    expect(reordered.json.id).toBe(first.json.id);
  });

  it('answers 422 when the key is reused with another body or path, and writes nothing', async () => {
    await post('key-mismatch', { contact_id: contactId, title: 'mismatch-a' });
    const otherBody = await post('key-mismatch', { contact_id: contactId, title: 'mismatch-b' });
    expect(otherBody.status).toBe(422);
    expect(otherBody.json.code).toBe('idempotency_key_reused');
    const otherPath = await post('key-mismatch', { phone: '0557770099' }, '/api/v1/contacts');
    expect(otherPath.status).toBe(422);
    expect(await countDeals('mismatch-b')).toBe(0);
    expect((await t.superuser.query(`SELECT count(*)::int AS n FROM contacts WHERE phone_e164 = '+966557770099'`)).rows[0].n).toBe(0);
  });

  it('keeps keys per tenant', async () => {
    const other = await t.createTestTenant('idem-other');
    const otherToken = await other.token('admin');
    const otherContact = (await t.request('POST', '/api/v1/contacts', { token: otherToken, body: { phone: '0557770001' } })).json.id;
    await post('key-shared', { contact_id: contactId, title: 'per-tenant' });
    const response = await post('key-shared', { contact_id: otherContact, title: 'per-tenant' }, '/api/v1/deals', otherToken);
    expect(response.status).toBe(201);
    expect(response.headers.get('idempotent-replayed')).toBeNull();
    expect(await countDeals('per-tenant')).toBe(2);
  });

  it('50 concurrent identical requests create exactly one row', async () => {
    const body = { contact_id: contactId, title: 'fifty', value_halalas: 50 };
    const responses = await Promise.all(Array.from({ length: 50 }, () => post('key-fifty', body)));
    const statuses = responses.map((r) => r.status);
    // Every request either got the one result (fresh or replayed) or was told the first is
    // still running; none created a second deal.
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(responses.filter((r) => r.status === 201 && r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    expect(new Set(responses.filter((r) => r.status === 201).map((r) => r.json.id)).size).toBe(1);
    expect(await countDeals('fifty')).toBe(1);
    expect((await t.superuser.query(`SELECT count(*)::int AS n FROM activities a JOIN deals d ON d.id = a.deal_id WHERE d.title = 'fifty'`)).rows[0].n).toBe(1);
  });

  it('answers 409 while the first request still holds the key, then works once it is gone', async () => {
    const blocker = new pg.Client({ connectionString: t.database.appUrl });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant.id]);
      await blocker.query(`INSERT INTO idempotency_keys (subject, key, fingerprint, method, path, expires_at) VALUES ($1, 'key-busy', 'x', 'POST', '/api/v1/deals', now() + interval '1 hour')`, [tenant.adminId]);
      const busy = await post('key-busy', { contact_id: contactId, title: 'busy' });
      expect(busy.status).toBe(409);
      expect(busy.json.code).toBe('idempotency_key_in_progress');
      expect(await countDeals('busy')).toBe(0);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    const after = await post('key-busy', { contact_id: contactId, title: 'busy' });
    expect(after.status).toBe(201);
    expect(await countDeals('busy')).toBe(1);
  });

  it('keeps no key for a failed request, so a corrected retry runs', async () => {
    const bad = await post('key-failed', { contact_id: contactId, title: '' });
    expect(bad.status).toBe(422);
    const good = await post('key-failed', { contact_id: contactId, title: 'fixed' });
    expect(good.status).toBe(201);
    expect(good.headers.get('idempotent-replayed')).toBeNull();
  });

  it('covers PATCH too', async () => {
    const deal = (await post('key-patch-create', { contact_id: contactId, title: 'patch-me', value_halalas: 1 })).json;
    const patch = () => t.request('PATCH', `/api/v1/deals/${deal.id}`, { token, body: { value_halalas: 2 }, headers: { 'idempotency-key': 'key-patch' } });
    expect((await patch()).status).toBe(200);
    const again = await patch();
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const updates = await t.superuser.query(`SELECT count(*)::int AS n FROM activities WHERE deal_id = $1 AND type = 'deal_updated'`, [deal.id]);
    expect(updates.rows[0].n).toBe(1);
  });

  it('refuses a malformed key', async () => {
    const response = await post('has space', { contact_id: contactId, title: 'x' });
    expect(response.status).toBe(422);
    expect(response.json.errors).toEqual([{ field: 'header.idempotency-key', message: expect.any(String) }]);
  });

  it('expires keys after their TTL: an expired key is reusable and the sweep purges it', async () => {
    await post('key-old', { contact_id: contactId, title: 'old-1' });
    await t.superuser.query(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'key-old'`);
    const reused = await post('key-old', { contact_id: contactId, title: 'old-2' });
    expect(reused.status).toBe(201);
    expect(reused.headers.get('idempotent-replayed')).toBeNull();
    const stored = await t.superuser.query(`SELECT expires_at > now() + interval '23 hours' AS fresh FROM idempotency_keys WHERE key = 'key-old'`);
    expect(stored.rows[0].fresh).toBe(true);

    await t.superuser.query(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key IN ('key-old', 'key-patch')`);
    const live = (await t.superuser.query(`SELECT count(*)::int AS n FROM idempotency_keys WHERE expires_at > now()`)).rows[0].n;
    expect(await unsafePurgeExpiredIdempotencyKeys(t.ownerPool)).toBe(2);
    expect((await t.superuser.query(`SELECT count(*)::int AS n FROM idempotency_keys`)).rows[0].n).toBe(live);
  });
});

describe('Idempotency-Key per caller', () => {
  it('a replay passes the permission check: a sales_rep re-sending a manager\'s approve gets 403, not the token', async () => {
    const manager = await tenant.token('sales_manager', await tenant.addUser(['sales_manager']));
    const rep = await tenant.token('sales_rep', await tenant.addUser(['sales_rep']));
    const ask = await t.request('POST', '/api/v1/gateway/execute', {
      token,
      body: { action: 'send_whatsapp', payload: { contact_id: contactId, text: 'replay probe' } },
    });
    expect(ask.json.result, ask.text).toBe('requires_approval');
    const path = `/api/v1/approvals/${ask.json.approval_request_id}/approve`;
    const approved = await t.request('POST', path, { token: manager, headers: { 'idempotency-key': 'approve-once' } });
    expect(approved.status, approved.text).toBe(200);
    expect(approved.json.approval_token).toBeTruthy();
    const replayed = await t.request('POST', path, { token: rep, headers: { 'idempotency-key': 'approve-once' } });
    expect(replayed.status).toBe(403);
    expect(replayed.json.code).toBe('forbidden');
    expect(replayed.text).not.toContain(approved.json.approval_token);
    expect(replayed.headers.get('idempotent-replayed')).toBeNull();
  });

  it('an executive re-sending an admin\'s POST /contacts key gets 403, not the stored 201', async () => {
    const executive = await tenant.token('executive', await tenant.addUser(['executive']));
    const body = { phone: '0557770123', name: 'Per caller' };
    const first = await post('contact-key', body, '/api/v1/contacts');
    expect(first.status, first.text).toBe(201);
    const replayed = await post('contact-key', body, '/api/v1/contacts', executive);
    expect(replayed.status).toBe(403);
    expect(replayed.headers.get('idempotent-replayed')).toBeNull();
    expect(replayed.text).not.toContain(first.json.id);
  });

  it('binds a key to its caller: the same key from another user is another key', async () => {
    const managerId = await tenant.addUser(['sales_manager']);
    const manager = await tenant.token('sales_manager', managerId);
    const body = { contact_id: contactId, title: 'per-caller', value_halalas: 3 };
    const first = await post('key-per-caller', body);
    expect(first.status).toBe(201);
    const other = await post('key-per-caller', body, '/api/v1/deals', manager);
    expect(other.status, other.text).toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(other.json.id).not.toBe(first.json.id);
    // Each caller's own retry still replays their own answer.
    const again = await post('key-per-caller', body, '/api/v1/deals', manager);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json.id).toBe(other.json.id);
    expect(await countDeals('per-caller')).toBe(2);
    const stored = await t.superuser.query(`SELECT subject FROM idempotency_keys WHERE key = 'key-per-caller' ORDER BY subject`);
    expect(stored.rows.map((r) => r.subject).sort()).toEqual([tenant.adminId, managerId].sort());
  });

  it('a mutating route with a key that never reached a permission guard fails loudly and keeps nothing', async () => {
    const unkeyed = await t.request('POST', '/api/v1/test-unguarded', { token, body: {} });
    expect(unkeyed.status).toBe(201);
    const keyed = await t.request('POST', '/api/v1/test-unguarded', { token, body: {}, headers: { 'idempotency-key': 'unguarded-1' } });
    expect(keyed.status).toBe(500);
    expect(t.logLines.some((l) => l.msg === 'unhandled error' && JSON.stringify(l).includes('never reached a permission guard'))).toBe(true);
    expect((await t.superuser.query(`SELECT count(*)::int AS n FROM idempotency_keys WHERE key = 'unguarded-1'`)).rows[0].n).toBe(0);
  });
});
