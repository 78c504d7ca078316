import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.ts';

/**
 * Tenancy is enforced by PostgreSQL. This suite discovers every table from the catalog, so a
 * table added later without RLS (or with a policy that does not use app.tenant_id) fails it.
 */
const GLOBAL_TABLES = new Set<string>([
  // Tables that are deliberately not tenant-scoped go here, each with a reason.
  // Platform-wide rollout percentages (no tenant data); dealix_app may only SELECT them.
  'canary_rollouts',
]);

let t: TestApp;
let tables: string[];

beforeAll(async () => {
  t = await createTestApp();
  // Two tenants with data in every table, so "zero rows" is not trivially true.
  for (const slug of ['rls-a', 'rls-b']) {
    const tenant = await t.createTestTenant(slug);
    const token = await tenant.token('admin');
    const contact = await t.request('POST', '/api/v1/contacts', { token, body: { phone: slug === 'rls-a' ? '0551110001' : '0551110002' } });
    expect(contact.status).toBe(201);
    const deal = await t.request('POST', '/api/v1/deals', {
      token,
      body: { contact_id: contact.json.id, title: 'RLS probe' },
      headers: { 'idempotency-key': `rls-${slug}` },
    });
    expect(deal.status).toBe(201);

    // The execution fabric's tables, through the API where it reaches them.
    const manager = await tenant.token('sales_manager', await tenant.addUser(['sales_manager']));
    expect((await t.request('PUT', '/api/v1/policy/overrides/summarize', { token, body: { class: 'B', reason: 'rls probe' } })).status).toBe(200);
    const ask = await t.request('POST', '/api/v1/gateway/execute', { token, body: { action: 'summarize', payload: { deal_id: deal.json.id } } });
    expect(ask.json.result).toBe('requires_approval');
    const approved = await t.request('POST', `/api/v1/approvals/${ask.json.approval_request_id}/approve`, { token: manager });
    const run = await t.request('POST', '/api/v1/gateway/execute', {
      token,
      body: { action: 'summarize', payload: { deal_id: deal.json.id }, approval_token: approved.json.approval_token },
    });
    expect(run.json.result).toBe('accepted');
    // No worker runs in this file, so the run stays pending and takes a signal.
    expect((await t.request('POST', `/api/v1/flows/${run.json.flow_run_id}/signals`, { token, body: { name: 'probe' } })).status).toBe(202);
    const grant = await t.request('POST', '/api/v1/standing-approvals', {
      token: manager,
      body: { action: 'notify_partner', conditions: {}, expires_at: new Date(Date.now() + 3_600_000).toISOString() },
    });
    expect(grant.status).toBe(201);
    const settings = await t.request('PUT', '/api/v1/os/settings', { token, body: { business_hours: { days: [0, 1, 2, 3, 4], start: '08:00', end: '17:00' } } });
    expect(settings.status, settings.text).toBe(200);
    const template = await t.request('PUT', '/api/v1/os/templates/welcome.plain.ar', { token, body: { text: `هلا والله (${slug})` } });
    expect(template.status, template.text).toBe(200);
    // Written only by workers and operators: seeded directly.
    await t.superuser.query(`INSERT INTO canary_memberships (tenant_id, subject, version) VALUES ($1, 'policy', 'v1')`, [tenant.id]);
    await t.superuser.query(`INSERT INTO side_effects (tenant_id, idempotency_key, run_id, step) VALUES ($1, $2 || ':s:e', $2::uuid, 's')`, [tenant.id, run.json.flow_run_id]);
    await t.superuser.query(`INSERT INTO dead_letters (tenant_id, run_id, flow_name, step, error, attempts) VALUES ($1, $2, 'f', 's', '{}', 1)`, [tenant.id, run.json.flow_run_id]);
    await t.superuser.query(
      `INSERT INTO outbound_messages (id, tenant_id, contact_id, deal_id, to_e164, body, idempotency_key, flow_run_id)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, 'rls probe', $5 || ':send', $5::uuid)`,
      [tenant.id, contact.json.id, deal.json.id, contact.json.phone, run.json.flow_run_id],
    );
    await t.superuser.query(`INSERT INTO inbound_messages (tenant_id, contact_id, deal_id, text, intent) VALUES ($1, $2, $3, 'rls probe', 'unknown')`, [
      tenant.id,
      contact.json.id,
      deal.json.id,
    ]);
    await t.superuser.query(`INSERT INTO drafts (tenant_id, contact_id, deal_id, text, reason) VALUES ($1, $2, $3, 'rls probe', 'rls probe')`, [
      tenant.id,
      contact.json.id,
      deal.json.id,
    ]);
  }
  // WhatsApp tables (issue 5), seeded directly: they are written by webhooks and send flows.
  for (const [index, slug] of ['rls-a', 'rls-b'].entries()) {
    const [{ id }] = (await t.superuser.query(`SELECT id FROM tenants WHERE slug = $1`, [slug])).rows;
    await t.superuser.query(`INSERT INTO whatsapp_credentials (tenant_id, provider, sealed, updated_by) VALUES ($1, 'fonnte', 'v1.x.y.z', 'rls')`, [id]);
    await t.superuser.query(`INSERT INTO whatsapp_webhook_keys (tenant_id, key_sha256, sealed_key, created_by) VALUES ($1, $2, 'v1.x.y.z', 'rls')`, [id, `hash-${index}`]);
    await t.superuser.query(`INSERT INTO whatsapp_webhook_events (tenant_id, provider, kind, event, raw_body) VALUES ($1, 'fonnte', 'ignored', '{}', '{}')`, [id]);
    await t.superuser.query(`INSERT INTO whatsapp_send_attempts (tenant_id, provider, outcome, started_at) VALUES ($1, 'fonnte', 'transient', now())`, [id]);
  }
  await t.superuser.query(`INSERT INTO canary_rollouts (subject, version, percentage) VALUES ('policy', 'v2', 0)`);
  const result = await t.superuser.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY 1`,
  );
  tables = result.rows.map((row) => row.relname).filter((name) => !GLOBAL_TABLES.has(name));
});

afterAll(async () => t?.close());

describe('row-level security, discovered from the catalog', () => {
  it('finds the foundation tables', () => {
    expect(tables).toEqual(expect.arrayContaining(['tenants', 'users', 'contacts', 'deals', 'activities', 'idempotency_keys']));
  });

  it('has ENABLE and FORCE row level security and a tenant policy on every table', async () => {
    const result = await t.superuser.query<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean; policies: string[] }>(
      `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
              coalesce(array_agg(pg_get_expr(p.polqual, p.polrelid) || ' | ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''))
                FILTER (WHERE p.polname = 'tenant_isolation'), '{}') AS policies
         FROM pg_class c LEFT JOIN pg_policy p ON p.polrelid = c.oid
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
        GROUP BY c.oid, c.relname, c.relrowsecurity, c.relforcerowsecurity`,
    );
    for (const table of tables) {
      const row = result.rows.find((r) => r.relname === table);
      expect(row, table).toBeDefined();
      expect({ table, enabled: row?.relrowsecurity, forced: row?.relforcerowsecurity }).toEqual({ table, enabled: true, forced: true });
      expect(row?.policies, `${table} needs a tenant_isolation policy`).toHaveLength(1);
      const [using, withCheck] = (row?.policies[0] ?? '').split(' | ');
      for (const expression of [using, withCheck]) {
        expect(expression, table).toContain("NULLIF(current_setting('app.tenant_id'::text, true), ''::text)");
      }
    }
  });

  it('every table holds rows (seen by the superuser), so the next checks are not vacuous', async () => {
    for (const table of tables) {
      const result = await t.superuser.query(`SELECT count(*)::int AS n FROM ${table}`);
      expect(result.rows[0].n, table).toBeGreaterThan(0);
    }
  });

  it('dealix_app with no tenant set sees zero rows in every table', async () => {
    const client = new pg.Client({ connectionString: t.database.appUrl });
    await client.connect();
    try {
      for (const table of tables) {
        const result = await client.query(`SELECT count(*)::int AS n FROM ${table}`);
        expect({ table, rows: result.rows[0].n }).toEqual({ table, rows: 0 });
      }
    } finally {
      await client.end();
    }
  });

  it('dealix_app with no tenant set cannot insert into any table (RLS refuses, 42501)', async () => {
    const client = new pg.Client({ connectionString: t.database.appUrl });
    await client.connect();
    try {
      for (const table of tables) {
        // A copy of a real row (read by the superuser), with every unique value still set:
        // only row-level security stands between it and the table.
        const sample = await t.superuser.query(`SELECT to_jsonb(x) AS row FROM ${table} x LIMIT 1`);
        const error = await client
          .query(`INSERT INTO ${table} SELECT * FROM jsonb_populate_record(NULL::${table}, $1::jsonb)`, [sample.rows[0].row])
          .then(() => undefined, (e: { code?: string }) => e);
        expect({ table, code: error?.code }).toEqual({ table, code: '42501' });
        const defaults = await client.query(`INSERT INTO ${table} DEFAULT VALUES`).then(() => undefined, (e: { code?: string }) => e);
        expect({ table, code: defaults?.code }).toEqual({ table, code: '42501' });
      }
    } finally {
      await client.end();
    }
  });

  it('dealix_app is no superuser, owns no table and cannot bypass RLS', async () => {
    const result = await t.superuser.query(
      `SELECT r.rolsuper, r.rolbypassrls,
              (SELECT count(*)::int FROM pg_class c WHERE c.relowner = r.oid) AS owned
         FROM pg_roles r WHERE r.rolname = 'dealix_app'`,
    );
    expect(result.rows[0]).toEqual({ rolsuper: false, rolbypassrls: false, owned: 0 });
  });

  it('with tenant A set, dealix_app sees only A and cannot write rows for B', async () => {
    const tenants = await t.superuser.query<{ id: string; slug: string }>(`SELECT id, slug FROM tenants ORDER BY slug`);
    const [a, b] = tenants.rows;
    const client = new pg.Client({ connectionString: t.database.appUrl });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [a?.id]);
      for (const table of tables) {
        const column = table === 'tenants' ? 'id' : 'tenant_id';
        const result = await client.query(`SELECT DISTINCT ${column}::text AS tenant FROM ${table}`);
        expect({ table, tenants: result.rows.map((r) => r.tenant) }).toEqual({ table, tenants: [a?.id] });
      }
      const error = await client
        .query(`INSERT INTO contacts (tenant_id, phone_e164) VALUES ($1, '+966551119999')`, [b?.id])
        .then(() => undefined, (e: { code?: string }) => e);
      expect(error?.code).toBe('42501');
    } finally {
      await client.query('ROLLBACK');
      await client.end();
    }
  });
});
