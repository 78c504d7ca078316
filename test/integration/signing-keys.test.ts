import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintApprovalToken, payloadSha256, verifyApprovalToken } from '../../src/approvals/approval-token.ts';
import { activeSigningKey } from '../../src/approvals/signing-keys.store.ts';
import * as schema from '../../src/db/schema.ts';
import type { TenantTx } from '../../src/tenancy/with-tenant.ts';
import { withTenant } from '../../src/tenancy/with-tenant.ts';
import { createTestApp, TEST_MASTER_KEY, type TestApp } from '../support/test-app.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JWK } from 'jose';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

/** A transaction held open by the test as dealix_app for one tenant, on its own named connection. */
async function openTenantTx(tenantId: string, applicationName: string) {
  const client = new pg.Client({ connectionString: t.database.appUrl, application_name: applicationName });
  await client.connect();
  await client.query(`BEGIN; SELECT set_config('app.tenant_id', '${tenantId}', true)`);
  const tx = drizzle({ client, schema }) as unknown as TenantTx;
  return {
    tx,
    async commit() {
      await client.query('COMMIT');
      await client.end();
    },
  };
}

const activeKeys = async (tenantId: string) =>
  (await t.superuser.query<{ kid: string; public_jwk: JWK }>('SELECT kid, public_jwk FROM tenant_signing_keys WHERE tenant_id = $1 AND retired_at IS NULL', [tenantId])).rows;

async function signWith(key: { kid: string; privateJwk: JWK }, tenantId: string) {
  const sha = payloadSha256({ n: key.kid });
  const minted = await mintApprovalToken({
    privateJwk: key.privateJwk,
    kid: key.kid,
    tenantId,
    action: 'notify_partner',
    payloadSha256: sha,
    approver: 'test',
    expiresAt: new Date(Date.now() + 60_000),
  });
  return { token: minted.token, sha };
}

describe("a tenant's signing key", () => {
  it('two first uses in overlapping transactions make one active key: the second waits for the first and uses its key', async () => {
    const tenant = await t.createTestTenant('keys-overlap');
    const a = await openTenantTx(tenant.id, 'keys-overlap-a');
    const keyA = await activeSigningKey({ tx: a.tx, tenantId: tenant.id, masterKey: TEST_MASTER_KEY });
    // A has inserted its key and not committed. B's first use starts now: it must either finish on
    // its own (the bug: it inserts a second active key) or wait on A's row.
    const b = await openTenantTx(tenant.id, 'keys-overlap-b');
    let bDone = false;
    const keyBPromise = activeSigningKey({ tx: b.tx, tenantId: tenant.id, masterKey: TEST_MASTER_KEY }).finally(() => (bDone = true));
    for (;;) {
      if (bDone) break;
      const waiting = await t.superuser.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'keys-overlap-b' AND wait_event_type = 'Lock'`);
      if (waiting.rowCount) break;
      await sleep(10);
    }
    await a.commit();
    const keyB = await keyBPromise;
    await b.commit();

    expect(keyB.kid).toBe(keyA.kid);
    const active = await activeKeys(tenant.id);
    expect(active.map((k) => k.kid)).toEqual([keyA.kid]);
  });

  it('concurrent first uses produce one active key, and every signature made with theirs verifies under it', async () => {
    const tenant = await t.createTestTenant('keys-race');
    const uses = await Promise.all(
      Array.from({ length: 6 }, () =>
        withTenant({ pool: t.appPool, tenantId: tenant.id }, async (tx) => {
          const key = await activeSigningKey({ tx, tenantId: tenant.id, masterKey: TEST_MASTER_KEY });
          return { kid: key.kid, ...(await signWith(key, tenant.id)) };
        }),
      ),
    );
    const active = await activeKeys(tenant.id);
    expect(active).toHaveLength(1);
    const [only] = active;
    for (const use of uses) {
      expect(use.kid).toBe(only?.kid);
      await expect(
        verifyApprovalToken({ token: use.token, publicJwk: only?.public_jwk as JWK, tenantId: tenant.id, action: 'notify_partner', payloadSha256: use.sha }),
      ).resolves.toBeDefined();
    }
  });

  it('a second active key cannot be inserted at all', async () => {
    const tenant = await t.createTestTenant('keys-unique');
    await withTenant({ pool: t.appPool, tenantId: tenant.id }, (tx) => activeSigningKey({ tx, tenantId: tenant.id, masterKey: TEST_MASTER_KEY }));
    const insert = withTenant({ pool: t.appPool, tenantId: tenant.id }, (tx) =>
      tx.insert(schema.tenantSigningKeys).values({ kid: 'second', publicJwk: {}, privateKeySealed: 'v1.x' }),
    );
    await expect(insert).rejects.toMatchObject({ cause: { code: '23505', constraint: 'tenant_signing_keys__active_key' } });
  });
});
