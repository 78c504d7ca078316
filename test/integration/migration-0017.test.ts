import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPool } from '../../src/db/client.ts';
import { MIGRATIONS_FOLDER, runMigrations } from '../../src/db/migrate.ts';
import { uuidv7 } from '../../src/db/uuid-v7.ts';
import { createTenant } from '../../src/tenancy/create-tenant.ts';

/**
 * Migration 0017 against data written the old way: a database migrated up to 0016 only, rows
 * inserted as 0016's code inserted them (no deal_id columns, duplicate active signing keys
 * from the first-use race), then the shipped migrations applied on top.
 */

const info = inject('postgres');
const url = (user: string, password: string, database: string) => `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${info.port}/${database}`;
const dbName = `m_${randomBytes(8).toString('hex')}`;
const superuserUrl = url('postgres', info.superuserPassword, dbName);
const ownerUrl = url('dealix_owner', info.ownerPassword, dbName);
let folder16: string;
let superuser: pg.Pool;

/** The shipped migrations folder with its journal cut after `lastTag`. */
async function migrationsUpTo(lastTag: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dealix-migrations-'));
  await mkdir(path.join(dir, 'meta'));
  const journal = JSON.parse(await readFile(path.join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string }[] };
  const cut = journal.entries.findIndex((entry) => entry.tag === lastTag);
  expect(cut).toBeGreaterThanOrEqual(0);
  const entries = journal.entries.slice(0, cut + 1);
  await writeFile(path.join(dir, 'meta/_journal.json'), JSON.stringify({ ...journal, entries }));
  const wanted = new Set(entries.map((entry) => `${entry.tag}.sql`));
  for (const file of await readdir(MIGRATIONS_FOLDER)) if (wanted.has(file)) await copyFile(path.join(MIGRATIONS_FOLDER, file), path.join(dir, file));
  return dir;
}

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: url('postgres', info.superuserPassword, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${dbName} OWNER dealix_owner`);
  } finally {
    await admin.end();
  }
  folder16 = await migrationsUpTo('0016_hardening_flow_engine');
  superuser = createPool({ connectionString: superuserUrl, max: 2, applicationName: 'dealix-test-migration' });
});
afterAll(async () => {
  await superuser?.end();
  if (folder16) await rm(folder16, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString: url('postgres', info.superuserPassword, 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).finally(() => admin.end());
});

/** Runs `work` as the owner inside one transaction scoped to `tenantId` (FORCE RLS applies to the owner too). */
async function asTenant(tenantId: string, work: (client: pg.PoolClient) => Promise<void>) {
  const pool = createPool({ connectionString: ownerUrl, max: 1, applicationName: 'migration-test' });
  const client = await pool.connect();
  try {
    await client.query(`BEGIN; SELECT set_config('app.tenant_id', '${tenantId}', true)`);
    await work(client);
    await client.query('COMMIT');
  } finally {
    client.release();
    await pool.end();
  }
}

const decision = (client: pg.PoolClient, values: { result: string; flowRunId?: string; approvalRequestId?: string }) => {
  const id = uuidv7();
  return client
    .query(
      `INSERT INTO decisions (id, actor, action, policy_class, matched_rule, policy_version, payload_sha256, result, reason, flow_run_id, approval_request_id)
       VALUES ($1, 'test', 'send_whatsapp', 'B', 'rule', 'v1', 'sha', $2, 'why', $3, $4)`,
      [id, values.result, values.flowRunId ?? null, values.approvalRequestId ?? null],
    )
    .then(() => id);
};
const run = (client: pg.PoolClient, input: unknown) => {
  const id = uuidv7();
  return client.query(`INSERT INTO flow_runs (id, flow_name, flow_version, input) VALUES ($1, 'test', '1', $2)`, [id, JSON.stringify(input)]).then(() => id);
};
const contactAndDeal = async (client: pg.PoolClient, phone: string) => {
  const contactId = uuidv7();
  const dealId = uuidv7();
  await client.query(`INSERT INTO contacts (id, phone_e164) VALUES ($1, $2)`, [contactId, phone]);
  await client.query(`INSERT INTO deals (id, contact_id, title) VALUES ($1, $2, 'Deal')`, [dealId, contactId]);
  return dealId;
};

describe('migration 0017 on a database at 0016', () => {
  it('backfills deal_id on runs and decisions from their JSON, keeps one active signing key per tenant, and restores FORCE RLS', async () => {
    await runMigrations(ownerUrl, { migrationsFolder: folder16 });
    const ownerPool = createPool({ connectionString: ownerUrl, max: 2, applicationName: 'migration-test' });
    const a = await createTenant({ ownerPool, slug: 'mig-a', name: 'A' });
    const b = await createTenant({ ownerPool, slug: 'mig-b', name: 'B' });
    await ownerPool.end();
    if (!a.created || !b.created) throw new Error('tenants not created');
    const tenantA = a.tenant.id;
    const tenantB = b.tenant.id;

    let dealB = '';
    let runB = '';
    await asTenant(tenantB, async (client) => {
      dealB = await contactAndDeal(client, '+966500000002');
      runB = await run(client, { action: 'send_whatsapp', payload: { deal_id: dealB } });
    });
    const ids: Record<string, string> = {};
    let dealA = '';
    await asTenant(tenantA, async (client) => {
      dealA = await contactAndDeal(client, '+966500000001');
      ids.gatewayRun = await run(client, { action: 'send_whatsapp', actor: 'x', payload: { contact_id: 'c', deal_id: dealA }, decision_id: 'd' });
      ids.upperCaseRun = await run(client, { payload: { deal_id: dealA.toUpperCase() } });
      ids.timedReplyRun = await run(client, { kind: 'follow_up', contact_id: 'c', deal_id: dealA });
      ids.notUuidRun = await run(client, { payload: { deal_id: 'not-a-uuid' } });
      ids.otherTenantsDealRun = await run(client, { payload: { deal_id: dealB } });
      ids.numberRun = await run(client, { payload: { deal_id: 42 } });
      ids.noDealRun = await run(client, { event_id: 'e', phone: '+966500000009' });
      ids.accepted = await decision(client, { result: 'accepted', flowRunId: ids.gatewayRun });
      const requestId = uuidv7();
      await client.query(
        `INSERT INTO approval_requests (id, action, payload, payload_sha256, requester, sla_due_at) VALUES ($1, 'send_whatsapp', $2, 'sha', 'x', now() + interval '1 hour')`,
        [requestId, JSON.stringify({ contact_id: 'c', deal_id: dealA })],
      );
      ids.requiresApproval = await decision(client, { result: 'requires_approval', approvalRequestId: requestId });
      ids.forbidden = await decision(client, { result: 'forbidden' });
      ids.otherTenantsDealDecision = await decision(client, { result: 'accepted', flowRunId: ids.otherTenantsDealRun });
      // What the first-use race left behind: two active keys (and an already retired one).
      await client.query(
        `INSERT INTO tenant_signing_keys (kid, public_jwk, private_key_sealed, created_at, retired_at) VALUES
           ('retired', '{}', 'v1.x', now() - interval '2 hours', now() - interval '1 hour'),
           ('older', '{}', 'v1.x', now() - interval '1 minute', NULL),
           ('newer', '{}', 'v1.x', now(), NULL)`,
      );
    });
    await asTenant(tenantB, async (client) => {
      await client.query(`INSERT INTO tenant_signing_keys (kid, public_jwk, private_key_sealed) VALUES ('b-only', '{}', 'v1.x')`);
    });

    const migrated = await runMigrations(ownerUrl);
    // 0017 and every migration shipped after it.
    const shipped = (JSON.parse(await readFile(path.join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string }[] }).entries;
    expect(migrated.applied).toBe(shipped.length - shipped.findIndex((entry) => entry.tag === '0017_hardening_data_integrity'));

    const runs = new Map(
      (await superuser.query<{ id: string; deal_id: string | null }>('SELECT id, deal_id FROM flow_runs')).rows.map((row) => [row.id, row.deal_id]),
    );
    expect(runs.get(ids.gatewayRun as string)).toBe(dealA);
    expect(runs.get(ids.upperCaseRun as string)).toBe(dealA);
    expect(runs.get(ids.timedReplyRun as string)).toBe(dealA);
    expect(runs.get(ids.notUuidRun as string)).toBeNull();
    expect(runs.get(ids.otherTenantsDealRun as string)).toBeNull();
    expect(runs.get(ids.numberRun as string)).toBeNull();
    expect(runs.get(ids.noDealRun as string)).toBeNull();
    expect(runs.get(runB)).toBe(dealB);

    const decisions = new Map(
      (await superuser.query<{ id: string; deal_id: string | null }>('SELECT id, deal_id FROM decisions')).rows.map((row) => [row.id, row.deal_id]),
    );
    expect(decisions.get(ids.accepted as string)).toBe(dealA);
    expect(decisions.get(ids.requiresApproval as string)).toBe(dealA);
    expect(decisions.get(ids.forbidden as string)).toBeNull();
    expect(decisions.get(ids.otherTenantsDealDecision as string)).toBeNull();

    const keys = await superuser.query<{ tenant_id: string; kid: string }>('SELECT tenant_id, kid FROM tenant_signing_keys WHERE retired_at IS NULL ORDER BY kid');
    expect(keys.rows).toEqual([
      { tenant_id: tenantB, kid: 'b-only' },
      { tenant_id: tenantA, kid: 'newer' },
    ]);

    const rls = await superuser.query<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
      `SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
        WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relname IN ('tenant_signing_keys', 'deals', 'flow_runs', 'decisions', 'approval_requests')
        ORDER BY relname`,
    );
    expect(rls.rows).toHaveLength(5);
    for (const row of rls.rows) expect(row, row.relname).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true });
  });
});
