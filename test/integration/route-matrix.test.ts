import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS, type Permission, type Role } from '../../src/auth/roles.ts';
import { changedTables, tenantTablesChecksum } from '../support/db-checksum.ts';
import { SUNDAY_10_RIYADH } from '../support/os-fixture.ts';
import { createTenantFixtures, fillPath, notifyPartner, type Caller, type TenantFixtures } from '../support/route-fixtures.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

/**
 * Every operation of /openapi.json, walked from the document itself: unauthenticated → 401,
 * each role → its permission's answer (403 and nothing changed where it is not allowed),
 * another tenant's ids → 404 and nothing changed, a sales_rep on another rep's deal → 404,
 * and an Idempotency-Key replayed by another caller. A route the document gains without an
 * entry in EXPECTATIONS fails the suite: whoever adds it says who may call it.
 */

type F = TenantFixtures;
interface Expectation {
  /** The permission the route requires (its roles come from src/auth/roles.ts), or `public` (webhooks: no token). */
  permission: Permission | 'public';
  /** A body that passes validation, built from the fixtures of the tenant it is sent to. */
  body?: (f: F) => unknown;
  /** A query string that passes validation. */
  query?: string;
  /** Path parameters other than fillPath's defaults (a record no other case consumes first). */
  ids?: (f: F) => Record<string, string>;
  /** A call from another tenant naming this tenant's records in the body (for routes whose path names none). */
  crossTenantBody?: (victim: F) => unknown;
  /** sales_rep 1 naming rep 2's deal in the body: must look missing (404) and change nothing. */
  ownScopeBody?: (f: F) => unknown;
}

/** Fixed, so a retried body is the same body (Idempotency-Key fingerprints it). */
const IN_A_DAY = new Date(Date.now() + 86_400_000).toISOString();

const inbound = (f: F, extra: Record<string, unknown> = {}) => ({ contact_id: f.contactRep1, event: { type: 'inbound_message', text: 'مرحبا', at: SUNDAY_10_RIYADH }, ...extra });

/** method + path → who may call it and how to call it validly. */
const EXPECTATIONS: Record<string, Expectation> = {
  'GET /api/v1/contacts': { permission: 'contacts:read', query: 'limit=5' },
  'POST /api/v1/contacts': { permission: 'contacts:write', body: () => ({ phone: '0551110001', name: 'Matrix' }) },
  'GET /api/v1/contacts/{id}': { permission: 'contacts:read' },
  'PATCH /api/v1/contacts/{id}': { permission: 'contacts:write', body: () => ({ name: 'Renamed' }) },
  'GET /api/v1/deals': { permission: 'deals:read', query: 'limit=5' },
  'POST /api/v1/deals': {
    permission: 'deals:write',
    body: (f) => ({ contact_id: f.contactRep1, title: 'Matrix deal' }),
    crossTenantBody: (victim) => ({ contact_id: victim.contactRep1, title: 'Sneaky' }),
  },
  'GET /api/v1/deals/{id}': { permission: 'deals:read' },
  'PATCH /api/v1/deals/{id}': { permission: 'deals:write', body: () => ({ title: 'Retitled' }) },
  'POST /api/v1/deals/{id}/transitions': { permission: 'deals:write', body: () => ({ to: 'closed_lost', reason: 'matrix' }) },
  'GET /api/v1/deals/{id}/activities': { permission: 'deals:read' },
  'GET /api/v1/deals/{id}/timeline': { permission: 'deals:read' },
  'POST /api/v1/gateway/execute': {
    permission: 'gateway:execute',
    body: (f) => ({ action: 'tag', payload: { deal_id: f.dealRep1, tags: ['matrix'] } }),
    crossTenantBody: (victim) => ({ action: 'tag', payload: { deal_id: victim.dealRep1, tags: ['sneaky'] } }),
    ownScopeBody: (f) => ({ action: 'tag', payload: { deal_id: f.dealRep2, tags: ['sneaky'] } }),
  },
  'GET /api/v1/decisions': { permission: 'decisions:read' },
  'GET /api/v1/policy': { permission: 'decisions:read' },
  'PUT /api/v1/policy/overrides/{action}': { permission: 'policy:manage', body: () => ({ class: 'B', reason: 'matrix check' }) },
  'DELETE /api/v1/policy/overrides/{action}': { permission: 'policy:manage' },
  'GET /api/v1/approvals': { permission: 'approvals:read', query: 'status=pending' },
  'POST /api/v1/approvals/{id}/approve': { permission: 'approvals:decide' },
  'POST /api/v1/approvals/{id}/reject': { permission: 'approvals:decide', body: () => ({ reason: 'not now' }), ids: (f) => ({ id: f.approvalRep2 }) },
  'GET /api/v1/standing-approvals': { permission: 'standing_approvals:read' },
  'POST /api/v1/standing-approvals': {
    permission: 'approvals:decide',
    body: () => ({ action: 'send_whatsapp', conditions: { stages: ['qualifying'] }, expires_at: IN_A_DAY }),
  },
  'POST /api/v1/standing-approvals/{id}/revoke': { permission: 'approvals:decide' },
  'GET /api/v1/flows': { permission: 'flows:read' },
  'GET /api/v1/flows/{id}': { permission: 'flows:read' },
  'POST /api/v1/flows/{id}/cancel': { permission: 'flows:operate' },
  'POST /api/v1/flows/{id}/resume': { permission: 'flows:operate' },
  'POST /api/v1/flows/{id}/signals': { permission: 'flows:operate', body: () => ({ name: 'probe', payload: { n: 1 } }) },
  'GET /api/v1/dead-letters': { permission: 'flows:read' },
  'POST /api/v1/dead-letters/{id}/replay': { permission: 'flows:operate' },
  'POST /api/v1/intents/classify': { permission: 'intents:classify', body: () => ({ text: 'كم السعر؟' }) },
  'GET /api/v1/drafts': { permission: 'drafts:read' },
  'PATCH /api/v1/drafts/{id}': { permission: 'drafts:edit', body: () => ({ text: 'Edited by the matrix' }) },
  'POST /api/v1/drafts/{id}/approve': { permission: 'drafts:decide' },
  'POST /api/v1/drafts/{id}/reject': { permission: 'drafts:decide', body: () => ({ reason: 'tone' }), ids: (f) => ({ id: f.draftRep2 }) },
  'GET /api/v1/os/stages': { permission: 'deals:read' },
  'POST /api/v1/os/process': {
    permission: 'os:process',
    body: (f) => inbound(f),
    crossTenantBody: (victim) => inbound(victim),
    ownScopeBody: (f) => inbound(f, { contact_id: f.contactRep2, deal_id: f.dealRep2 }),
  },
  'POST /api/v1/os/bulk-process': { permission: 'os:process', body: (f) => ({ events: [inbound(f)] }) },
  'POST /api/v1/os/process-and-act': {
    permission: 'os:act',
    body: (f) => inbound(f),
    crossTenantBody: (victim) => inbound(victim),
    ownScopeBody: (f) => inbound(f, { contact_id: f.contactRep2, deal_id: f.dealRep2 }),
  },
  'GET /api/v1/os/settings': { permission: 'os:settings:read' },
  'PUT /api/v1/os/settings': { permission: 'os:settings:write', body: () => ({ business_hours: { days: [0, 1, 2, 3, 4], start: '09:00', end: '17:00' } }) },
  'GET /api/v1/os/settings/history': { permission: 'os:settings:read' },
  'GET /api/v1/os/templates': { permission: 'os:settings:read' },
  'GET /api/v1/os/templates/{id}/versions': { permission: 'os:settings:read' },
  'PUT /api/v1/os/templates/{id}': { permission: 'os:settings:write', body: () => ({ text: 'Hi {{name}}!', note: 'matrix' }) },
  'POST /api/v1/whatsapp/webhook-key': { permission: 'whatsapp:manage', body: () => ({}) },
  'GET /api/v1/whatsapp/webhooks': { permission: 'whatsapp:manage' },
  'POST /webhooks/whatsapp/{provider}/{key}': { permission: 'public', body: () => ({ typeWebhook: 'stateInstanceChanged' }) },
  'GET /webhooks/whatsapp/meta-cloud/{key}': { permission: 'public', query: 'hub.mode=subscribe&hub.verify_token=x&hub.challenge=1' },
  'PUT /api/v1/whatsapp/providers/{name}': { permission: 'whatsapp:manage', body: () => ({ instance_id: '1101000001', token: 'matrix-token' }) },
  'DELETE /api/v1/whatsapp/providers/{name}': { permission: 'whatsapp:manage' },
  'GET /api/v1/os/whatsapp-providers': { permission: 'whatsapp:read' },
  'POST /api/v1/os/test-send': { permission: 'whatsapp:test_send', body: () => ({ to: '0551234567', text: 'matrix test' }) },
};

/**
 * Cases that fail today because of defects being fixed on other branches (issue 9 item numbers).
 * They run as `it.fails`: when the fix lands the case passes, the suite turns red, and the entry is deleted.
 */
// Cases that fail for a defect not fixed yet, each with the issue item that fixes it; they run as
// it.fails, so a fix turns them red until the entry is deleted. Empty: issue 9's items 1–3 are fixed.
const KNOWN_FAILURES: Array<{ operation: string; case: string; item: number }> = [];

const ROLES_CHECKED: Role[] = ['admin', 'sales_manager', 'sales_rep', 'compliance_officer', 'executive', 'system'];

interface Operation {
  key: string;
  method: string;
  path: string;
  hasIdempotencyKey: boolean;
}

let t: TestApp;
let home: TenantFixtures;
let other: TenantFixtures;
let operations: Operation[];
let secondAdmin: string;
const counts = { roleChecks: 0, unauthenticated: 0, crossTenant: 0, ownScope: 0, idempotency: 0 };

// The document is read once the app exists; the first test proves its operations are exactly EXPECTATIONS' keys.
beforeAll(async () => {
  t = await createTestApp({ plugins: [notifyPartner] });
  home = await createTenantFixtures(t, 'matrix-home', '05522000');
  other = await createTenantFixtures(t, 'matrix-other', '05533000');
  secondAdmin = await home.tenant.token('admin', await home.tenant.addUser(['admin']));
  const doc = (await t.request('GET', '/openapi.json')).json as { paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }> }>> };
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      key: `${method.toUpperCase()} ${path}`,
      method: method.toUpperCase(),
      path,
      hasIdempotencyKey: (op.parameters ?? []).some((p) => p.in === 'header' && p.name === 'idempotency-key'),
    })),
  );
});
afterAll(async () => {
  console.log(`route matrix: ${operations?.length} operations; ${counts.roleChecks} operation × role checks, ${counts.unauthenticated} unauthenticated, ${counts.crossTenant} cross-tenant, ${counts.ownScope} own-scope, ${counts.idempotency} idempotency`);
  await t?.close();
});

function send(op: Operation, f: F, options: { token?: string; path?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const expectation = EXPECTATIONS[op.key]!;
  const path = options.path ?? fillPath(op.path, f, expectation.ids?.(f));
  const url = expectation.query ? `${path}?${expectation.query}` : path;
  const body = 'body' in options ? options.body : expectation.body?.(f);
  return t.request(op.method, url, { ...(options.token ? { token: options.token } : {}), ...(body !== undefined ? { body } : {}), ...(options.headers ? { headers: options.headers } : {}) });
}

/** Sends, and asserts the answer is `status` and no tenant-scoped table changed. */
async function expectRefusedUnchanged(label: string, status: number | number[], call: () => ReturnType<typeof send>) {
  const before = await tenantTablesChecksum(t.superuser);
  const response = await call();
  const statuses = Array.isArray(status) ? status : [status];
  expect(statuses, `${label}: ${response.status} ${response.text.slice(0, 300)}`).toContain(response.status);
  expect(changedTables(before, await tenantTablesChecksum(t.superuser)), `${label}: tables changed by a ${response.status}`).toEqual([]);
  return response;
}

/** Registers `name` as a test, or as `it.fails` when it is a known failure (a fix elsewhere will turn it red). */
function check(operation: string, caseName: string, body: () => Promise<void>) {
  const known = KNOWN_FAILURES.find((entry) => entry.operation === operation && entry.case === caseName);
  const title = `${operation} — ${caseName}${known ? ` (known failure, issue 9 item ${known.item})` : ''}`;
  (known ? it.fails : it)(title, body);
}

describe('the matrix covers the document', () => {
  it('every operation in /openapi.json has an expectation, and every expectation an operation', () => {
    const documented = operations.map((op) => op.key).sort();
    expect(documented.filter((key) => !EXPECTATIONS[key]), 'operations missing from EXPECTATIONS').toEqual([]);
    expect(Object.keys(EXPECTATIONS).filter((key) => !documented.includes(key)), 'expectations for no operation').toEqual([]);
    for (const entry of KNOWN_FAILURES) expect(documented, 'KNOWN_FAILURES names an operation').toContain(entry.operation);
  });
});

// Collection needs the operations before the app exists: the list is static (the document's
// keys equal EXPECTATIONS' keys, which the test above proves), so the cases are generated from it.
const STATIC_OPERATIONS: Operation[] = Object.keys(EXPECTATIONS).map((key) => {
  const [method, path] = key.split(' ') as [string, string];
  return { key, method, path, hasIdempotencyKey: ['POST', 'PUT', 'PATCH'].includes(method) && !path.startsWith('/webhooks/') };
});
const isPublic = (op: Operation) => EXPECTATIONS[op.key]!.permission === 'public';
// Template ids name the built-in templates every tenant has: not a record of one tenant.
const tenantIdInPath = (op: Operation) => op.path.includes('{id}') && !op.path.startsWith('/api/v1/os/templates/');

describe("another tenant's records answer 404 and change nothing", () => {
  // First: the calls below leave rows in the other tenant that name this tenant's ids (a tag run it asked for).
  for (const op of STATIC_OPERATIONS.filter((o) => o.method === 'GET' && !isPublic(o))) {
    check(op.key, "admin of another tenant: no id of this tenant in the answer", async () => {
      counts.crossTenant++;
      const response = await send(op, other, { token: other.tokens.admin });
      expect(response.status, response.text.slice(0, 300)).toBe(200);
      for (const id of [...home.allIds(), home.tenant.id]) expect(response.text).not.toContain(id);
    });
  }
  for (const op of STATIC_OPERATIONS.filter((o) => !isPublic(o) && tenantIdInPath(o))) {
    check(op.key, "admin of another tenant, this tenant's id in the path", async () => {
      counts.crossTenant++;
      await expectRefusedUnchanged(op.key, 404, () => send(op, other, { token: other.tokens.admin, path: fillPath(op.path, home, EXPECTATIONS[op.key]!.ids?.(home)) }));
    });
  }
  for (const op of STATIC_OPERATIONS.filter((o) => EXPECTATIONS[o.key]!.crossTenantBody)) {
    check(op.key, "admin of another tenant, this tenant's ids in the body", async () => {
      counts.crossTenant++;
      const response = await expectRefusedUnchanged(op.key, [404, 422], () => send(op, other, { token: other.tokens.admin, body: EXPECTATIONS[op.key]!.crossTenantBody!(home) }));
      expect(response.text).not.toContain(home.tenant.id);
    });
  }
  check('POST /webhooks/whatsapp/{provider}/{key}', 'a key that names no tenant', async () => {
    counts.crossTenant++;
    const op = STATIC_OPERATIONS.find((o) => o.key === 'POST /webhooks/whatsapp/{provider}/{key}')!;
    await expectRefusedUnchanged(op.key, 404, () => send(op, home, { path: fillPath(op.path, home, { key: 'no-such-key-0000000000000000' }) }));
  });
});

describe("a sales_rep answers 404 for another rep's deal and changes nothing", () => {
  const repMay = (op: Operation) => {
    const permission = EXPECTATIONS[op.key]!.permission;
    return permission !== 'public' && (PERMISSIONS[permission] as readonly Role[]).includes('sales_rep');
  };
  const dealScopedPath = (op: Operation) => op.path.startsWith('/api/v1/deals/{id}') || op.path.startsWith('/api/v1/drafts/{id}');
  for (const op of STATIC_OPERATIONS.filter((o) => repMay(o) && dealScopedPath(o))) {
    check(op.key, "sales_rep, another rep's deal in the path", async () => {
      counts.ownScope++;
      const path = op.path.startsWith('/api/v1/deals/') ? fillPath(op.path, home, { id: home.dealRep2 }) : fillPath(op.path, home, { id: home.draftRep2 });
      await expectRefusedUnchanged(op.key, 404, () => send(op, home, { token: home.tokens.sales_rep, path }));
    });
  }
  for (const op of STATIC_OPERATIONS.filter((o) => repMay(o) && EXPECTATIONS[o.key]!.ownScopeBody)) {
    check(op.key, "sales_rep, another rep's deal in the body", async () => {
      counts.ownScope++;
      await expectRefusedUnchanged(op.key, 404, () => send(op, home, { token: home.tokens.sales_rep, body: EXPECTATIONS[op.key]!.ownScopeBody!(home) }));
    });
  }
  const lists: Array<[string, (f: F) => string]> = [
    ['GET /api/v1/deals', (f) => f.dealRep2],
    ['GET /api/v1/drafts', (f) => f.draftRep2],
    ['GET /api/v1/approvals', (f) => f.approvalRep2],
  ];
  for (const [key, otherRecord] of lists) {
    check(key, "sales_rep: another rep's records are not listed", async () => {
      counts.ownScope++;
      const op = STATIC_OPERATIONS.find((o) => o.key === key)!;
      const response = await send(op, home, { token: home.tokens.sales_rep });
      expect(response.status, response.text.slice(0, 300)).toBe(200);
      expect(response.text).not.toContain(otherRecord(home));
    });
  }
});

describe('an Idempotency-Key is never replayed to another caller', () => {
  for (const op of STATIC_OPERATIONS.filter((o) => o.hasIdempotencyKey && !isPublic(o))) {
    const permission = EXPECTATIONS[op.key]!.permission as Permission;
    const forbidden = ROLES_CHECKED.find((role) => !(PERMISSIONS[permission] as readonly Role[]).includes(role));
    check(op.key, 'another user with the same key', async () => {
      counts.idempotency++;
      const key = `matrix-user-${op.key.replace(/[^\x21-\x7e]/g, "_")}`;
      const first = await send(op, home, { token: home.tokens.admin, headers: { 'idempotency-key': key } });
      if (first.status >= 300) return expect.fail(`the first call must succeed for the replay to be a question: ${first.status} ${first.text.slice(0, 300)}`);
      const again = await send(op, home, { token: secondAdmin, headers: { 'idempotency-key': key } });
      expect(again.headers.get('idempotent-replayed'), `${again.status} ${again.text.slice(0, 200)}`).toBeNull();
      if (forbidden) {
        counts.idempotency++;
        await expectRefusedUnchanged(`${op.key} as ${forbidden}`, 403, () => send(op, home, { token: home.tokens[forbidden], headers: { 'idempotency-key': key } }));
      }
    });
  }
});

describe('each role gets its permission’s answer', () => {
  for (const op of STATIC_OPERATIONS) {
    const permission = EXPECTATIONS[op.key]!.permission;
    if (permission === 'public') continue;
    check(op.key, 'unauthenticated', async () => {
      counts.unauthenticated++;
      await expectRefusedUnchanged(op.key, 401, () => send(op, home));
    });
    for (const role of ROLES_CHECKED) {
      const allowed = (PERMISSIONS[permission] as readonly Role[]).includes(role);
      check(op.key, `${role}: ${allowed ? 'allowed' : '403'}`, async () => {
        counts.roleChecks++;
        const caller: Caller = role;
        if (!allowed) {
          const response = await expectRefusedUnchanged(`${op.key} as ${role}`, 403, () => send(op, home, { token: home.tokens[caller] }));
          expect(response.json.code).toBe('forbidden');
          return;
        }
        const response = await send(op, home, { token: home.tokens[caller] });
        expect([401, 403], `${role}: ${response.status} ${response.text.slice(0, 300)}`).not.toContain(response.status);
        expect(response.status, response.text.slice(0, 300)).toBeLessThan(500);
      });
    }
  }
});
