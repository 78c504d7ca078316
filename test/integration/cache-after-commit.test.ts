import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLifecycleConfig } from '../../src/os-settings/os-settings.store.ts';
import { withTenant } from '../../src/tenancy/with-tenant.ts';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

/**
 * Issue 9 item 17: a write's cache entries are dropped only once it has committed. Each test holds
 * the writing request's COMMIT open (a deferred constraint trigger waits on an advisory lock this
 * test holds), reads while the old value is still the committed one, lets the commit through and
 * reads again: the second read must see the new value, not the one the first read cached.
 */
let t: TestApp;

beforeAll(async () => {
  // Ultramsg from the environment: its webhook URL answers (not 404) for every tenant whose key is known.
  t = await createTestApp({ whatsapp: { providers: { ultramsg: { instance_id: 'instance1150', token: 'ultra-token' } } } });
  await t.superuser.query(`CREATE FUNCTION test_hold_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_advisory_xact_lock(917017); RETURN NULL; END $$`);
});
afterAll(async () => {
  await t?.close();
});

/**
 * Runs `write` with its commit held on `table` until `whileHeld` has run, then lets it commit.
 * Returns the write's result.
 */
async function withCommitHeld<T>(table: string, write: () => Promise<T>, whileHeld: () => Promise<void>): Promise<T> {
  await t.superuser.query(
    `CREATE CONSTRAINT TRIGGER hold_commit AFTER INSERT OR UPDATE OR DELETE ON ${table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_hold_commit()`,
  );
  const holder: pg.PoolClient = await t.superuser.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock(917017)');
    const writing = write();
    // The write is at its COMMIT once some backend waits for the advisory lock.
    for (;;) {
      const waiting = await t.superuser.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`);
      if (waiting.rows[0].n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await whileHeld();
    await holder.query('COMMIT');
    return await writing;
  } finally {
    holder.release();
    await t.superuser.query(`DROP TRIGGER IF EXISTS hold_commit ON ${table}`);
  }
}

async function tenantWithAdmin(slug: string): Promise<{ tenant: TestTenant; admin: string }> {
  const tenant = await t.createTestTenant(slug);
  return { tenant, admin: await tenant.token('admin') };
}

describe('caches are dropped after the write commits', () => {
  it('provider credentials: a read during the write cannot keep the old chain', async () => {
    const { admin } = await tenantWithAdmin('cache-providers');
    const fonnteOf = async () =>
      (await t.request('GET', '/api/v1/os/whatsapp-providers', { token: admin })).json.data.find((p: { name: string }) => p.name === 'fonnte');
    expect(await fonnteOf()).toMatchObject({ configured: false });
    const put = await withCommitHeld(
      'whatsapp_credentials',
      () => t.request('PUT', '/api/v1/whatsapp/providers/fonnte', { token: admin, body: { token: 'fonnte-token-1' } }),
      async () => {
        // Not committed yet: the old (empty) configuration is what a reader must see, and may cache.
        expect(await fonnteOf()).toMatchObject({ configured: false });
      },
    );
    expect(put.status, put.text).toBe(200);
    expect(await fonnteOf()).toMatchObject({ configured: true, source: 'tenant' });
  });

  it('webhook key rotation: a webhook during the rotation cannot keep the old key alive', async () => {
    const { admin } = await tenantWithAdmin('cache-keys');
    const created = await t.request('POST', '/api/v1/whatsapp/webhook-key', { token: admin, body: {} });
    expect(created.status, created.text).toBe(200);
    const oldKey = String(created.json.urls.ultramsg).split('/').at(-1) as string;
    const hook = async (key: string) =>
      (await t.app.request(`/webhooks/whatsapp/ultramsg/${key}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status;
    expect(await hook(oldKey)).not.toBe(404);
    const rotated = await withCommitHeld(
      'whatsapp_webhook_keys',
      () => t.request('POST', '/api/v1/whatsapp/webhook-key', { token: admin, body: { rotate: true } }),
      async () => {
        expect(await hook(oldKey)).not.toBe(404);
      },
    );
    expect(rotated.status, rotated.text).toBe(200);
    expect(await hook(oldKey)).toBe(404);
    expect(await hook(String(rotated.json.urls.ultramsg).split('/').at(-1) as string)).not.toBe(404);
  });

  it('OS settings: a read during the edit cannot keep the old business hours', async () => {
    const { tenant, admin } = await tenantWithAdmin('cache-settings');
    const hoursEnd = async () => (await withTenant({ pool: t.appPool, tenantId: tenant.id, readOnly: true }, (tx) => loadLifecycleConfig(tx, tenant.id))).settings.business_hours.end;
    const before = await hoursEnd();
    const edited = await withCommitHeld(
      'os_settings_versions',
      () =>
        t.request('PUT', '/api/v1/os/settings', {
          token: admin,
          body: { business_hours: { days: [0, 1, 2, 3, 4], start: '09:00', end: '13:17', timezone: 'Asia/Riyadh' } },
        }),
      async () => {
        expect(await hoursEnd()).toBe(before);
      },
    );
    expect(edited.status, edited.text).toBe(200);
    expect(await hoursEnd()).toBe('13:17');
  });
});
