import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintApprovalToken, payloadSha256 } from '../../src/approvals/approval-token.ts';
import { activeSigningKey } from '../../src/approvals/signing-keys.store.ts';
import { startFlow } from '../../src/flows/flow-commands.ts';
import { defineFlow } from '../../src/flows/flow-definition.ts';
import { executeAction } from '../../src/gateway/execute-action.ts';
import type { ActionPlugin } from '../../src/gateway/task-router.ts';
import { withTenant } from '../../src/tenancy/with-tenant.ts';
import { createTestApp, TEST_MASTER_KEY, type TestApp, type TestTenant } from '../support/test-app.ts';
import { ZAnyFlowInput } from '../support/flow-input.ts';

const notified: Array<Record<string, unknown>> = [];
const notifyPartner: ActionPlugin = {
  action: 'notify_partner',
  description: 'test plugin: not in the policy table, so class B',
  payload: z.object({ partner: z.string(), stage: z.string().optional(), template: z.string().optional(), text: z.string().optional() }),
  flows: [
    defineFlow({
      input: ZAnyFlowInput, name: 'action:notify_partner',
      version: '1',
      steps: [
        {
          name: 'send',
          run: async (ctx) => {
            notified.push(ctx.input.payload as Record<string, unknown>);
          },
          noCompensation: { reason: 'test sink', escalate: false },
        },
      ],
    }),
  ],
};
const versioned: ActionPlugin = {
  action: 'plan',
  description: 'test plugin: class A with two flow versions',
  payload: z.object({}),
  flows: ['1', '2'].map((version) =>
    defineFlow({
      input: ZAnyFlowInput, name: 'action:plan',
      version,
      steps: [{ name: 'think', run: async () => ({ output: { version } }), noCompensation: { reason: 'pure', escalate: false } }],
    }),
  ),
};
// Class B in the policy table; here only so a token for another action reaches the token check.
const publishContent: ActionPlugin = {
  action: 'publish_content',
  description: 'test plugin: class B by the table',
  payload: z.object({ partner: z.string() }),
  flows: [defineFlow({ input: ZAnyFlowInput, name: 'action:publish_content', version: '1', steps: [{ name: 'noop', run: async () => ({}), noCompensation: { reason: 'test sink', escalate: false } }] })],
};
let researchFails = true;
const research: ActionPlugin = {
  action: 'research',
  description: 'test plugin: class A, fails on demand',
  payload: z.object({ topic: z.string() }),
  flows: [
    defineFlow({
      input: ZAnyFlowInput, name: 'action:research',
      version: '1',
      steps: [
        {
          name: 'look',
          retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
          run: async () => {
            if (researchFails) throw new Error('search backend down');
            return { output: { found: 3 } };
          },
          noCompensation: { reason: 'reads only', escalate: false },
        },
      ],
    }),
  ],
};

let t: TestApp;
let a: TestTenant;
let b: TestTenant;
let admin: string;
let manager: string;
let managerId: string;
let rep: string;
let repId: string;
let dealId: string;
let contactId: string;

beforeAll(async () => {
  t = await createTestApp({ plugins: [notifyPartner, research, versioned, publishContent] });
  a = await t.createTestTenant('gw-a');
  b = await t.createTestTenant('gw-b');
  admin = await a.token('admin');
  managerId = await a.addUser(['sales_manager']);
  manager = await a.token('sales_manager', managerId);
  repId = await a.addUser(['sales_rep']);
  rep = await a.token('sales_rep', repId);
  const contact = await t.request('POST', '/api/v1/contacts', { token: admin, body: { phone: '0556660001' } });
  contactId = contact.json.id;
  dealId = (await t.request('POST', '/api/v1/deals', { token: admin, body: { contact_id: contact.json.id, title: 'Gateway deal' } })).json.id;
  await t.startWorker({ pollIntervalMs: 200 });
});
afterAll(async () => {
  await t?.close();
});

const execute = (token: string, action: string, payload: Record<string, unknown>, extra: { approval_token?: string; headers?: Record<string, string> } = {}) =>
  t.request('POST', '/api/v1/gateway/execute', {
    token,
    body: { action, payload, ...(extra.approval_token ? { approval_token: extra.approval_token } : {}) },
    headers: extra.headers ?? {},
  });

const runStatus = (runId: string, want: string[], token = admin) => t.waitForRun(runId, want, token);
const decisionRow = async (id: string) => (await t.superuser.query('SELECT * FROM decisions WHERE id = $1', [id])).rows[0];
const countRows = async (table: 'approval_requests' | 'decisions' | 'flow_runs') => (await t.superuser.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;

describe('policy gate', () => {
  it('class A runs automatically as a durable flow and is logged', async () => {
    const cid = 'c0ffee00c0ffee00c0ffee00c0ffee00';
    const response = await execute(admin, 'tag', { deal_id: dealId, tags: ['vip', 'riyadh'] }, { headers: { 'x-correlation-id': cid } });
    expect(response.status).toBe(202);
    expect(response.json).toMatchObject({ result: 'accepted', policy_class: 'A', matched_rule: 'table:A', policy_version: 'v1', correlation_id: cid });
    const run = await runStatus(response.json.flow_run_id, ['completed']);
    expect(run.output).toEqual({ added: ['vip', 'riyadh'] });
    expect(run.input.payload._correlation_id).toBe(cid);
    expect(run.checkpoints.map((c: { status: string }) => c.status)).toEqual(['started', 'step_started', 'step_completed', 'completed']);
    expect((await t.request('GET', `/api/v1/deals/${dealId}`, { token: admin })).json).toBeDefined();
    const row = await decisionRow(response.json.decision_id);
    expect(row).toMatchObject({ correlation_id: cid, actor: a.adminId, action: 'tag', policy_class: 'A', result: 'accepted', flow_run_id: run.id });
    expect(row.payload_sha256).toBe(payloadSha256({ deal_id: dealId, tags: ['vip', 'riyadh'] }));
  });

  it('a decision and its run record the deal the payload names; a deal_id that is no deal of this tenant records none and is decided as usual', async () => {
    const tagged = await execute(admin, 'tag', { deal_id: dealId, tags: ['deal-ref'] });
    expect(tagged.status, tagged.text).toBe(202);
    expect((await decisionRow(tagged.json.decision_id)).deal_id).toBe(dealId);
    const run = await t.superuser.query('SELECT deal_id FROM flow_runs WHERE id = $1', [tagged.json.flow_run_id]);
    expect(run.rows[0].deal_id).toBe(dealId);

    const bContact = await t.request('POST', '/api/v1/contacts', { token: await b.token('admin'), body: { phone: '0556660009' } });
    const bDeal = await t.request('POST', '/api/v1/deals', { token: await b.token('admin'), body: { contact_id: bContact.json.id, title: 'B deal' } });
    for (const foreign of ['not-a-uuid', bDeal.json.id, '0193a6f2-9d7e-7c1a-8a7e-3b5c0f1d2e4f', 42]) {
      const refused = await execute(admin, 'exfiltrate_secrets', { deal_id: foreign });
      expect(refused.status, refused.text).toBe(403);
      expect((await decisionRow(refused.json.decision.decision_id)).deal_id).toBeNull();
    }
  });

  it('class C is forbidden, and the refusal is in the decision log', async () => {
    const headers = { 'idempotency-key': 'forbidden-1' };
    const response = await execute(admin, 'exfiltrate_secrets', { what: 'everything' }, { headers });
    expect(response.status).toBe(403);
    expect(response.json.code).toBe('action_forbidden');
    expect((await decisionRow(response.json.decision.decision_id)).result).toBe('forbidden');
    // The refusal commits its decision but leaves no half-claimed Idempotency-Key behind.
    const retry = await execute(admin, 'exfiltrate_secrets', { what: 'everything' }, { headers });
    expect(retry.status).toBe(403);
    expect(retry.json.decision.decision_id).not.toBe(response.json.decision.decision_id);
  });

  it('class B without a correlation id fails', async () => {
    const outcome = await withTenant({ pool: t.appPool, tenantId: a.id }, (tx) =>
      executeAction({ tx, tenantId: a.id, request: { actor: 'x', action: 'notify_partner', payload: { partner: 'p' } }, deps: { router: t.router, masterKey: TEST_MASTER_KEY, logger: t.logger } }),
    );
    expect(outcome).toMatchObject({ result: 'failed', policyClass: 'B' });
  });

  it('an unknown action fails at the task router before any approval request, and a token offered for it is not spent', async () => {
    const before = await countRows('approval_requests');
    const ask = await execute(rep, 'launch_rocket', { to: 'moon' });
    expect(ask.status).toBe(422);
    expect(ask.json.code).toBe('action_not_executable');
    expect(ask.json.detail).toMatch(/unknown task type/);
    expect(await countRows('approval_requests')).toBe(before);
    const token = await withTenant({ pool: t.appPool, tenantId: a.id }, async (tx) => {
      const key = await activeSigningKey({ tx, tenantId: a.id, masterKey: TEST_MASTER_KEY });
      const sha = payloadSha256({ to: 'moon' });
      return mintApprovalToken({ privateJwk: key.privateJwk, kid: key.kid, tenantId: a.id, action: 'launch_rocket', payloadSha256: sha, approver: managerId, expiresAt: new Date(Date.now() + 60_000) });
    });
    const response = await execute(rep, 'launch_rocket', { to: 'moon' }, { approval_token: token.token });
    expect(response.status).toBe(422);
    expect(response.json.code).toBe('action_not_executable');
    expect((await t.superuser.query('SELECT count(*)::int AS n FROM approval_token_uses WHERE token_id = $1', [token.tokenId])).rows[0].n).toBe(0);
    expect(t.logLines.some((l) => l.msg === 'gateway call failed' && l.reason === 'unknown task type: no plugin handles launch_rocket')).toBe(true);
  });

  it('a class B call with an invalid payload is refused (422 naming the field) without opening a request', async () => {
    const before = await countRows('approval_requests');
    const response = await execute(rep, 'send_whatsapp', { contact_id: 'nobody', text: 'hi' });
    expect(response.status).toBe(422);
    expect(response.json.code).toBe('action_not_executable');
    expect(response.json.errors.map((e: { field: string }) => e.field)).toEqual(['payload.contact_id']);
    expect(response.json.decision.approval_request_id).toBeNull();
    expect(await countRows('approval_requests')).toBe(before);
  });

  it('validates the payload against the plugin schema', async () => {
    const response = await execute(admin, 'tag', { deal_id: 'nope', tags: [] });
    expect(response.status).toBe(422);
    expect(response.json.errors.map((e: { field: string }) => e.field).sort()).toEqual(['payload.deal_id', 'payload.tags']);
  });
});

describe('approvals', () => {
  it('class B without a token opens one approval request per payload', async () => {
    const first = await execute(rep, 'notify_partner', { partner: 'Acme' });
    expect(first.status).toBe(202);
    expect(first.json).toMatchObject({ result: 'requires_approval', policy_class: 'B', matched_rule: 'unknown_action' });
    const again = await execute(rep, 'notify_partner', { partner: 'Acme' });
    expect(again.json.approval_request_id).toBe(first.json.approval_request_id);
    const other = await execute(rep, 'notify_partner', { partner: 'Acmf' });
    expect(other.json.approval_request_id).not.toBe(first.json.approval_request_id);
    const list = await t.request('GET', '/api/v1/approvals?status=pending', { token: manager });
    const request = list.json.data.find((r: { id: string }) => r.id === first.json.approval_request_id);
    expect(request).toMatchObject({ action: 'notify_partner', status: 'pending', sla_state: 'pending', payload_sha256: first.json.payload_sha256 });
  });

  it('the requester cannot approve their own request; a sales_rep cannot approve at all', async () => {
    const ask = await execute(manager, 'notify_partner', { partner: 'Self' });
    const own = await t.request('POST', `/api/v1/approvals/${ask.json.approval_request_id}/approve`, { token: manager });
    expect(own.status).toBe(403);
    const byRep = await t.request('POST', `/api/v1/approvals/${ask.json.approval_request_id}/approve`, { token: rep });
    expect(byRep.status).toBe(403);
  });

  it('a token works once, for exactly that payload, action and tenant', async () => {
    const payload = { partner: 'Tihama' };
    const ask = await execute(rep, 'notify_partner', payload);
    const approved = await t.request('POST', `/api/v1/approvals/${ask.json.approval_request_id}/approve`, { token: manager });
    expect(approved.status).toBe(200);
    expect(approved.json.approval).toMatchObject({ status: 'approved', decided_by: managerId, sla_state: 'met' });
    const token = approved.json.approval_token;

    const changed = await execute(rep, 'notify_partner', { partner: 'Tihamb' }, { approval_token: token });
    expect(changed.status).toBe(403);
    expect(changed.json.detail).toBe('approval token refused: wrong_payload');
    const otherAction = await execute(rep, 'publish_content', payload, { approval_token: token });
    expect(otherAction.json.detail).toMatch(/wrong_action/);
    const otherTenant = await execute(await b.token('admin'), 'notify_partner', payload, { approval_token: token });
    expect(otherTenant.status).toBe(403);
    expect(otherTenant.json.detail).toMatch(/not signed by a key of this tenant/);

    const used = await execute(rep, 'notify_partner', payload, { approval_token: token });
    expect(used.status).toBe(202);
    expect(used.json).toMatchObject({ result: 'accepted', approval_request_id: ask.json.approval_request_id });
    await runStatus(used.json.flow_run_id, ['completed']);
    expect(notified.filter((n) => n.partner === 'Tihama')).toHaveLength(1);

    const again = await execute(rep, 'notify_partner', payload, { approval_token: token });
    expect(again.status).toBe(403);
    expect(again.json.detail).toBe('approval token refused: already used');

    // Tenant A's log holds its two refusals; tenant B's refusal is in B's log only.
    const refusals = await t.request('GET', '/api/v1/decisions?action=notify_partner&result=blocked', { token: admin });
    expect(refusals.json.data.map((d: { reason: string }) => d.reason).sort()).toEqual(['approval token refused: already used', 'approval token refused: wrong_payload']);
    const inB = await t.request('GET', '/api/v1/decisions?result=blocked', { token: await b.token('admin') });
    expect(inB.json.data).toHaveLength(1);
    const otherActionRefusal = await t.request('GET', '/api/v1/decisions?action=publish_content&result=blocked', { token: admin });
    expect(otherActionRefusal.json.data).toHaveLength(1);
  });

  it('refuses an expired token', async () => {
    const payload = { partner: 'Late' };
    const sha = payloadSha256(payload);
    const token = await withTenant({ pool: t.appPool, tenantId: a.id }, async (tx) => {
      const key = await activeSigningKey({ tx, tenantId: a.id, masterKey: TEST_MASTER_KEY });
      return mintApprovalToken({ privateJwk: key.privateJwk, kid: key.kid, tenantId: a.id, action: 'notify_partner', payloadSha256: sha, approver: managerId, expiresAt: new Date(Date.now() + 1100) });
    });
    await sleep(1200);
    const response = await execute(rep, 'notify_partner', payload, { approval_token: token.token });
    expect(response.json.detail).toBe('approval token refused: expired');
  });

  it('rejects with a reason, which is required', async () => {
    const ask = await execute(rep, 'notify_partner', { partner: 'NoThanks' });
    const noReason = await t.request('POST', `/api/v1/approvals/${ask.json.approval_request_id}/reject`, { token: manager, body: {} });
    expect(noReason.status).toBe(422);
    const rejected = await t.request('POST', `/api/v1/approvals/${ask.json.approval_request_id}/reject`, { token: manager, body: { reason: 'not a partner' } });
    expect(rejected.json).toMatchObject({ status: 'rejected', decision_reason: 'not a partner' });
    const twice = await t.request('POST', `/api/v1/approvals/${ask.json.approval_request_id}/approve`, { token: manager });
    expect(twice.status).toBe(409);
  });

  it('stores signing keys sealed, never in clear', async () => {
    const keys = await t.superuser.query('SELECT private_key_sealed FROM tenant_signing_keys');
    expect(keys.rows.length).toBeGreaterThan(0);
    for (const row of keys.rows) {
      expect(row.private_key_sealed).toMatch(/^v1\./);
      expect(row.private_key_sealed).not.toMatch(/"d"/);
    }
  });
});

describe('standing approvals', () => {
  it('mint a token when a call fits, record which one, respect the rate cap, and stop at once when revoked', async () => {
    const grant = await t.request('POST', '/api/v1/standing-approvals', {
      token: manager,
      body: { action: 'notify_partner', conditions: { stages: ['new_lead', 'qualifying'], template_only: true, max_per_hour: 2 }, expires_at: new Date(Date.now() + 3_600_000).toISOString() },
    });
    expect(grant.status).toBe(201);
    const standingId = grant.json.id;

    const fits = await execute(rep, 'notify_partner', { partner: 'S1', stage: 'new_lead', template: 'welcome' });
    expect(fits.json).toMatchObject({ result: 'accepted', standing_approval_id: standingId });
    expect(fits.json.reason).toContain(standingId);
    const row = await decisionRow(fits.json.decision_id);
    expect(row.approval_token_id).toBeTruthy();

    const wrongStage = await execute(rep, 'notify_partner', { partner: 'S2', stage: 'negotiating', template: 'welcome' });
    expect(wrongStage.json.result).toBe('requires_approval');
    expect(wrongStage.json.reason).toMatch(/stage negotiating/);
    const freeText = await execute(rep, 'notify_partner', { partner: 'S3', stage: 'new_lead', text: 'hi' });
    expect(freeText.json.result).toBe('requires_approval');

    expect((await execute(rep, 'notify_partner', { partner: 'S4', stage: 'qualifying', template: 'welcome' })).json.result).toBe('accepted');
    const capped = await execute(rep, 'notify_partner', { partner: 'S5', stage: 'qualifying', template: 'welcome' });
    expect(capped.json.result).toBe('requires_approval');
    expect(capped.json.reason).toMatch(/rate cap of 2\/hour/);

    const revoked = await t.request('POST', `/api/v1/standing-approvals/${standingId}/revoke`, { token: manager });
    expect(revoked.json.active).toBe(false);
    const grant2 = await t.request('POST', '/api/v1/standing-approvals', {
      token: manager,
      body: { action: 'notify_partner', conditions: { stages: ['nurturing'] }, expires_at: new Date(Date.now() + 3_600_000).toISOString() },
    });
    expect((await execute(rep, 'notify_partner', { partner: 'S6', stage: 'nurturing' })).json.standing_approval_id).toBe(grant2.json.id);
    await t.request('POST', `/api/v1/standing-approvals/${grant2.json.id}/revoke`, { token: manager });
    expect((await execute(rep, 'notify_partner', { partner: 'S7', stage: 'nurturing' })).json.result).toBe('requires_approval');
  });
});

describe('tenant policy and canary', () => {
  it('a tenant may tighten an action but never loosen class C', async () => {
    const tighten = await t.request('PUT', '/api/v1/policy/overrides/summarize', { token: admin, body: { class: 'B', reason: 'summaries leave the building' } });
    expect(tighten.status).toBe(200);
    const response = await execute(admin, 'summarize', { deal_id: dealId });
    expect(response.json).toMatchObject({ result: 'requires_approval', policy_class: 'B', matched_rule: 'tenant_override' });
    const loosen = await t.request('PUT', '/api/v1/policy/overrides/bypass_auth', { token: admin, body: { class: 'B', reason: 'please' } });
    expect(loosen.status).toBe(422);
    expect((await t.request('PUT', '/api/v1/policy/overrides/tag', { token: manager, body: { class: 'C', reason: 'x'.repeat(5) } })).status).toBe(403);
    await t.request('DELETE', '/api/v1/policy/overrides/summarize', { token: admin });
    expect((await execute(admin, 'summarize', { deal_id: dealId })).json.result).toBe('accepted');
  });

  it('a tenant in the canary group gets the new policy version, recorded on the decision', async () => {
    await withTenant({ pool: t.ownerPool, tenantId: b.id }, (tx) => tx.execute(`INSERT INTO canary_memberships (subject, version) VALUES ('policy', 'v2')`));
    const tokenB = await b.token('admin');
    const contact = await t.request('POST', '/api/v1/contacts', { token: tokenB, body: { phone: '0556660002' } });
    const deal = (await t.request('POST', '/api/v1/deals', { token: tokenB, body: { contact_id: contact.json.id, title: 'B deal' } })).json.id;
    const response = await execute(tokenB, 'tag', { deal_id: deal, tags: ['x'] });
    expect(response.json).toMatchObject({ result: 'requires_approval', policy_class: 'B', policy_version: 'v2', canary_version: 'policy:v2' });
    // Tenant A is not in the group: still v1.
    expect((await execute(admin, 'tag', { deal_id: dealId, tags: ['y'] })).json).toMatchObject({ policy_version: 'v1', canary_version: null });
  });
});

describe('canary rollouts', () => {
  it('a flow canary runs the named flow version and records it on the run and the decision', async () => {
    const c = await t.createTestTenant('gw-canary');
    const token = await c.token('admin');
    expect((await runStatus((await execute(token, 'plan', {})).json.flow_run_id, ['completed'], token)).output).toEqual({ version: '1' });
    await withTenant({ pool: t.ownerPool, tenantId: c.id }, (tx) => tx.execute(`INSERT INTO canary_memberships (subject, version) VALUES ('flow:plan', '2')`));
    const response = await execute(token, 'plan', {});
    expect(response.json.canary_version).toBe('flow:2');
    const run = await runStatus(response.json.flow_run_id, ['completed'], token);
    expect(run).toMatchObject({ version: '2', canary_version: '2', output: { version: '2' } });
  });

  it('a percentage rollout reaches tenants by stable hash', async () => {
    const d = await t.createTestTenant('gw-rollout');
    const token = await d.token('admin');
    await t.superuser.query(`INSERT INTO canary_rollouts (subject, version, percentage) VALUES ('policy', 'v2', 100)`);
    try {
      expect((await execute(token, 'plan', {})).json).toMatchObject({ policy_version: 'v2', canary_version: 'policy:v2' });
      await t.superuser.query(`UPDATE canary_rollouts SET percentage = 0 WHERE subject = 'policy'`);
      expect((await execute(token, 'plan', {})).json).toMatchObject({ policy_version: 'v1', canary_version: null });
    } finally {
      await t.superuser.query(`DELETE FROM canary_rollouts`);
    }
  });
});

describe('a plugin whose deal does not exist', () => {
  const missing = '00000000-0000-7000-8000-00000000dead';
  const cases = [
    ['tag', { deal_id: missing, tags: ['x'] }],
    ['internal_status_update', { deal_id: missing, status: 'checked' }],
    ['summarize', { deal_id: missing }],
  ] as const;

  it('is refused by the gateway with 404 before any run starts, for every caller', async () => {
    for (const [action, payload] of cases) {
      const response = await execute(admin, action, payload);
      expect(response.status, response.text).toBe(404);
      expect(response.json.code).toBe('not_found');
    }
    // Other tests' runs go on beside this one, so count what could name the missing deal.
    const named = await t.superuser.query(
      `SELECT (SELECT count(*) FROM flow_runs WHERE input->'payload'->>'deal_id' = $1)::int AS runs,
              (SELECT count(*) FROM approval_requests WHERE payload->>'deal_id' = $1)::int AS requests`,
      [missing],
    );
    expect(named.rows[0]).toEqual({ runs: 0, requests: 0 });
  });

  it('fails a run already started at once, without retries: a missing deal is not a transient error', async () => {
    for (const [action, payload] of cases) {
      const [version] = t.router.registry.versions(`action:${action}`);
      const flow = t.router.registry.get(`action:${action}`, version!)!;
      const { run } = await withTenant({ pool: t.appPool, tenantId: a.id }, (tx) => startFlow({ tx, flow, input: { action, actor: 'test', payload } }));
      const failed = await runStatus(run.id, ['failed']);
      expect(failed.error, action).toMatchObject({ attempts: 1, message: `deal ${missing} does not exist` });
      const [letter] = (await t.superuser.query('SELECT attempts FROM dead_letters WHERE run_id = $1', [failed.id])).rows;
      expect(letter, action).toMatchObject({ attempts: 1 });
    }
  });
});

describe('flows and dead letters over HTTP', () => {
  it('lists runs, shows checkpoints, dead-letters a failing run and replays it once', async () => {
    researchFails = true;
    const response = await execute(admin, 'research', { topic: 'dates exporters' });
    const failed = await runStatus(response.json.flow_run_id, ['failed']);
    expect(failed.error).toMatchObject({ message: 'search backend down' });
    const letters = await t.request('GET', '/api/v1/dead-letters', { token: admin });
    const letter = letters.json.data.find((d: { run_id: string }) => d.run_id === failed.id);
    expect(letter).toMatchObject({ step: 'look', attempts: 2 });
    researchFails = false;
    const replay = await t.request('POST', `/api/v1/dead-letters/${letter.id}/replay`, { token: admin });
    expect(replay.status).toBe(202);
    expect((await runStatus(replay.json.id, ['completed'])).output).toEqual({ found: 3 });
    expect((await t.request('POST', `/api/v1/dead-letters/${letter.id}/replay`, { token: admin })).status).toBe(409);
    const incomplete = await t.request('GET', '/api/v1/flows?status=pending,running,waiting', { token: admin });
    expect(incomplete.status).toBe(200);
    const failedList = await t.request('GET', '/api/v1/flows?status=failed', { token: admin });
    expect(failedList.json.data.map((r: { id: string }) => r.id)).toContain(failed.id);
    expect((await t.request('POST', `/api/v1/flows/${failed.id}/cancel`, { token: admin })).status).toBe(409);
    expect((await t.request('GET', `/api/v1/flows/${failed.id}`, { token: await b.token('admin') })).status).toBe(404);
  });

  it('repeats nothing for a repeated Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'gw-idem-1' };
    const first = await execute(admin, 'internal_status_update', { deal_id: dealId, status: 'called' }, { headers });
    const second = await execute(admin, 'internal_status_update', { deal_id: dealId, status: 'called' }, { headers });
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.json.flow_run_id).toBe(first.json.flow_run_id);
    await runStatus(first.json.flow_run_id, ['completed']);
    const notes = await t.superuser.query(`SELECT count(*)::int AS n FROM activities WHERE deal_id = $1 AND type = 'internal_status_update'`, [dealId]);
    expect(notes.rows[0].n).toBe(1);
  });
});

describe('gateway idempotency per actor', () => {
  it('the same idempotency key from two actors starts two runs; the same actor gets its run back', async () => {
    const deps = { router: t.router, masterKey: TEST_MASTER_KEY, logger: t.logger };
    const call = (actor: string) =>
      withTenant({ pool: t.appPool, tenantId: a.id }, (tx) =>
        executeAction({ tx, tenantId: a.id, request: { actor, action: 'internal_status_update', payload: { deal_id: dealId, status: 'same key' }, idempotencyKey: 'shared-key' }, deps }),
      );
    const first = await call(a.adminId);
    const other = await call(managerId);
    expect(first.result).toBe('accepted');
    expect(other.result).toBe('accepted');
    expect(other.flowRunId).not.toBe(first.flowRunId);
    expect((await call(managerId)).flowRunId).toBe(other.flowRunId);
  });
});

describe('own-deal scope at the gateway', () => {
  it('a sales_rep gets 404 for another rep\'s deal on tag, internal_status_update and summarize, and nothing is written', async () => {
    const otherRepId = await a.addUser(['sales_rep']);
    const otherContact = await t.request('POST', '/api/v1/contacts', { token: admin, body: { phone: '0556660101' } });
    const theirs = (await t.request('POST', '/api/v1/deals', { token: admin, body: { contact_id: otherContact.json.id, title: 'Their deal', owner_user_id: otherRepId } })).json.id;
    expect((await t.request('GET', `/api/v1/deals/${theirs}`, { token: rep })).status).toBe(404);
    const before = { decisions: await countRows('decisions'), requests: await countRows('approval_requests'), runs: await countRows('flow_runs') };
    for (const [action, payload] of [
      ['tag', { deal_id: theirs, tags: ['mine-now'] }],
      ['internal_status_update', { deal_id: theirs, status: 'hijacked' }],
      ['summarize', { deal_id: theirs }],
    ] as const) {
      const response = await execute(rep, action, payload);
      expect(response.status, `${action}: ${response.text}`).toBe(404);
      expect(response.json.code).toBe('not_found');
    }
    expect({ decisions: await countRows('decisions'), requests: await countRows('approval_requests'), runs: await countRows('flow_runs') }).toEqual(before);

    // Their own deal runs as before.
    const mine = (await t.request('POST', '/api/v1/deals', { token: rep, body: { contact_id: otherContact.json.id, title: 'My deal' } })).json.id;
    const own = await execute(rep, 'tag', { deal_id: mine, tags: ['ok'] });
    expect(own.status, own.text).toBe(202);
    expect((await runStatus(own.json.flow_run_id, ['completed'])).output).toEqual({ added: ['ok'] });
  });

  it('a sales_rep cannot send to another rep\'s lead, not even under a standing approval', async () => {
    const otherRepId = await a.addUser(['sales_rep']);
    const lead = await t.request('POST', '/api/v1/contacts', { token: admin, body: { phone: '0556660102' } });
    const theirDeal = (await t.request('POST', '/api/v1/deals', { token: admin, body: { contact_id: lead.json.id, title: 'Their lead', owner_user_id: otherRepId } })).json.id;
    const grant = await t.request('POST', '/api/v1/standing-approvals', {
      token: manager,
      body: { action: 'send_whatsapp', conditions: {}, expires_at: new Date(Date.now() + 3_600_000).toISOString() },
    });
    expect(grant.status).toBe(201);
    try {
      const before = { decisions: await countRows('decisions'), requests: await countRows('approval_requests'), runs: await countRows('flow_runs') };
      const byContact = await execute(rep, 'send_whatsapp', { contact_id: lead.json.id, text: 'hello from another rep' });
      expect(byContact.status, byContact.text).toBe(404);
      const byDeal = await execute(rep, 'send_whatsapp', { contact_id: contactId, deal_id: theirDeal, text: 'hello' });
      expect(byDeal.status, byDeal.text).toBe(404);
      expect({ decisions: await countRows('decisions'), requests: await countRows('approval_requests'), runs: await countRows('flow_runs') }).toEqual(before);
    } finally {
      await t.request('POST', `/api/v1/standing-approvals/${grant.json.id}/revoke`, { token: manager });
    }
  });

  it('the plugin re-checks the deal against the scope the run carries', async () => {
    const otherRepId = await a.addUser(['sales_rep']);
    const theirs = (await t.request('POST', '/api/v1/deals', { token: admin, body: { contact_id: contactId, title: 'Scoped run', owner_user_id: otherRepId } })).json.id;
    const plugin = t.router.get('tag');
    if (!plugin) throw new Error('no tag plugin');
    const { startFlow } = await import('../../src/flows/flow-commands.ts');
    const runId = await withTenant({ pool: t.appPool, tenantId: a.id }, async (tx) => {
      const { run } = await startFlow({
        tx,
        flow: t.router.flowFor(plugin, undefined),
        input: { action: 'tag', actor: repId, payload: { deal_id: theirs, tags: ['sneaky'] }, deal_scope: { owner_user_id: repId } },
        correlationId: 'scope-recheck',
        idempotencyKey: null,
        canaryVersion: null,
      });
      return run.id;
    });
    const run = await runStatus(runId, ['failed', 'completed']);
    expect(run.status).toBe('failed');
    expect((await t.superuser.query('SELECT tags FROM deals WHERE id = $1', [theirs])).rows[0].tags).toEqual([]);
  });

  it('carries the caller\'s deal scope in the run input', async () => {
    const mine = (await t.request('POST', '/api/v1/deals', { token: rep, body: { contact_id: contactId, title: 'Carried scope' } })).json.id;
    const response = await execute(rep, 'summarize', { deal_id: mine });
    expect(response.status, response.text).toBe(202);
    const run = await runStatus(response.json.flow_run_id, ['completed']);
    expect(run.input.deal_scope).toEqual({ owner_user_id: repId });
    const byAdmin = await execute(admin, 'summarize', { deal_id: mine });
    expect((await runStatus(byAdmin.json.flow_run_id, ['completed'])).input.deal_scope).toEqual({});
  });
});

describe('approval requests are scoped for own-only roles', () => {
  it('a sales_rep sees the requests they opened or whose deal they own, never another rep\'s', async () => {
    const otherRepId = await a.addUser(['sales_rep']);
    const otherRep = await a.token('sales_rep', otherRepId);
    const lead = await t.request('POST', '/api/v1/contacts', { token: admin, body: { phone: '0556660103' } });
    const theirDeal = (await t.request('POST', '/api/v1/deals', { token: admin, body: { contact_id: lead.json.id, title: 'Scoped approvals', owner_user_id: otherRepId } })).json.id;
    const myDeal = (await t.request('POST', '/api/v1/deals', { token: rep, body: { contact_id: lead.json.id, title: 'My scoped approvals' } })).json.id;

    const theirs = await execute(otherRep, 'send_whatsapp', { contact_id: lead.json.id, deal_id: theirDeal, text: 'secret draft text of the other rep' });
    expect(theirs.json.result, theirs.text).toBe('requires_approval');
    const mineOpened = await execute(rep, 'notify_partner', { partner: 'Scoped-mine' });
    const onMyDeal = await execute(manager, 'send_whatsapp', { contact_id: lead.json.id, deal_id: myDeal, text: 'manager writes on my deal' });
    const managers = await execute(manager, 'notify_partner', { partner: 'Scoped-manager' });
    expect((await t.superuser.query('SELECT deal_id FROM approval_requests WHERE id = $1', [onMyDeal.json.approval_request_id])).rows[0].deal_id).toBe(myDeal);

    const list = await t.request('GET', '/api/v1/approvals?limit=200', { token: rep });
    expect(list.status).toBe(200);
    const ids = list.json.data.map((r: { id: string }) => r.id);
    expect(ids).toContain(mineOpened.json.approval_request_id);
    expect(ids).toContain(onMyDeal.json.approval_request_id);
    expect(ids).not.toContain(theirs.json.approval_request_id);
    expect(ids).not.toContain(managers.json.approval_request_id);
    expect(list.text).not.toContain('secret draft text');

    const all = await t.request('GET', '/api/v1/approvals?limit=200', { token: manager });
    expect(all.json.data.map((r: { id: string }) => r.id)).toEqual(expect.arrayContaining([theirs.json.approval_request_id, managers.json.approval_request_id]));
  });

  it('standing approvals are not shown to own-only roles', async () => {
    expect((await t.request('GET', '/api/v1/standing-approvals', { token: rep })).status).toBe(403);
    expect((await t.request('GET', '/api/v1/standing-approvals', { token: manager })).status).toBe(200);
    expect((await t.request('GET', '/api/v1/standing-approvals', { token: await a.token('executive', await a.addUser(['executive'])) })).status).toBe(200);
  });
});
