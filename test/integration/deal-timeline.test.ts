import { drizzle } from 'drizzle-orm/node-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema.ts';
import { dealDecisionsQuery } from '../../src/deals/get-deal-timeline.ts';
import { grantTemplateReplies, SUNDAY_10_RIYADH } from '../support/os-fixture.ts';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

let t: TestApp;
let tenant: TestTenant;
let admin: string;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTestTenant('timeline');
  admin = await tenant.token('admin');
  await grantTemplateReplies(t, tenant);
  await t.startWorker({ pollIntervalMs: 100 });
});
afterAll(async () => {
  await t?.close();
});

const runStatus = (runId: string, want: string[], token = admin) => t.waitForRun(runId, want, token);

describe('GET /api/v1/deals/{id}/timeline', () => {
  it('after process-and-act on a new phone: inbound message, stage change, decision, outbound message, in order', async () => {
    const acted = await t.request('POST', '/api/v1/os/process-and-act', {
      token: admin,
      body: { contact: { phone: '0553330001', name: 'عبدالله' }, event: { type: 'inbound_message', text: 'السلام عليكم ابغى اعرف الاسعار', at: SUNDAY_10_RIYADH } },
    });
    expect(acted.status, acted.text).toBe(200);
    const { done } = acted.json;
    expect(done.flow_run_id).not.toBeNull();
    expect((await runStatus(done.flow_run_id, ['completed', 'failed'])).status).toBe('completed');

    const response = await t.request('GET', `/api/v1/deals/${done.deal_id}/timeline`, { token: admin });
    expect(response.status, response.text).toBe(200);
    const items: { kind: string; at: string; id: string; type?: string }[] = response.json.data;
    expect(items.map((i) => (i.kind === 'activity' ? `activity:${i.type}` : i.kind))).toEqual([
      'inbound_message',
      'activity:deal_created',
      'activity:stage_changed',
      'decision',
      'outbound_message',
    ]);
    const byKind = Object.fromEntries(items.map((i) => [i.kind === 'activity' ? i.type : i.kind, i]));
    expect(byKind.inbound_message).toMatchObject({ id: done.inbound_message_id, at: '2026-01-11T07:00:00.000Z', intent: 'price_inquiry' });
    expect(byKind.stage_changed).toMatchObject({ data: expect.objectContaining({ from: 'new_lead', to: 'qualifying' }) });
    expect(byKind.decision).toMatchObject({ id: done.decision_id, action: 'send_whatsapp', result: 'accepted', flow_run_id: done.flow_run_id });
    expect(byKind.outbound_message).toMatchObject({ status: 'sent', template_id: acted.json.reply.template, flow_run_id: done.flow_run_id });
    const times = items.map((i) => i.at);
    expect([...times].sort()).toEqual(times);

    // limit keeps the newest entries, still oldest first.
    const last2 = await t.request('GET', `/api/v1/deals/${done.deal_id}/timeline?limit=2`, { token: admin });
    expect(last2.json.data.map((i: { kind: string }) => i.kind)).toEqual(['decision', 'outbound_message']);
    expect((await t.request('GET', `/api/v1/deals/${done.deal_id}/timeline?limit=0`, { token: admin })).status).toBe(422);
  });

  it("another tenant's deal, or another rep's, is 404", async () => {
    const acted = await t.request('POST', '/api/v1/os/process-and-act', {
      token: admin,
      body: { contact: { phone: '0553330002' }, event: { type: 'inbound_message', text: 'hello', at: SUNDAY_10_RIYADH } },
    });
    expect(acted.status, acted.text).toBe(200);
    const dealId = acted.json.done.deal_id;
    const other = await t.createTestTenant('timeline-other');
    expect((await t.request('GET', `/api/v1/deals/${dealId}/timeline`, { token: await other.token('admin') })).status).toBe(404);
    const rep = await tenant.token('sales_rep', await tenant.addUser(['sales_rep']));
    expect((await t.request('GET', `/api/v1/deals/${dealId}/timeline`, { token: rep })).status).toBe(404);
    expect((await t.request('GET', `/api/v1/deals/0193a6f2-9d7e-7c1a-8a7e-3b5c0f1d2e4f/timeline`, { token: admin })).status).toBe(404);
  });
});

describe('decisions on the timeline', () => {
  it('a decision that started no run (the gateway asked for approval) is on its deal\'s timeline, and names its deal', async () => {
    // No standing approval in this tenant: the auto reply needs a human, the gateway opens a request.
    const unapproved = await t.createTestTenant('timeline-unapproved');
    const token = await unapproved.token('admin');
    const acted = await t.request('POST', '/api/v1/os/process-and-act', {
      token,
      body: { contact: { phone: '0553330003' }, event: { type: 'inbound_message', text: 'السلام عليكم ابغى اعرف الاسعار', at: SUNDAY_10_RIYADH } },
    });
    expect(acted.status, acted.text).toBe(200);
    const { done } = acted.json;
    expect(done.decision_id).not.toBeNull();
    expect(done.flow_run_id).toBeNull();
    expect(done.draft_id).not.toBeNull();

    const response = await t.request('GET', `/api/v1/deals/${done.deal_id}/timeline`, { token });
    expect(response.status, response.text).toBe(200);
    const decisionItems = response.json.data.filter((i: { kind: string }) => i.kind === 'decision');
    expect(decisionItems).toEqual([expect.objectContaining({ id: done.decision_id, action: 'send_whatsapp', result: 'requires_approval', flow_run_id: null })]);
    const row = await t.superuser.query('SELECT deal_id FROM decisions WHERE id = $1', [done.decision_id]);
    expect(row.rows[0].deal_id).toBe(done.deal_id);
  });

  it('are read through the (tenant_id, deal_id) index, with no JSON path filter and no scan of flow_runs', async () => {
    const acted = await t.request('POST', '/api/v1/os/process-and-act', {
      token: admin,
      body: { contact: { phone: '0553330004' }, event: { type: 'inbound_message', text: 'hello', at: SUNDAY_10_RIYADH } },
    });
    expect(acted.status, acted.text).toBe(200);
    const client = await t.appPool.connect();
    try {
      await client.query(`BEGIN; SELECT set_config('app.tenant_id', '${tenant.id}', true); SET LOCAL enable_seqscan = off`);
      const query = dealDecisionsQuery(drizzle({ client, schema }), acted.json.done.deal_id, 200).toSQL();
      const explained = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${query.sql}`, query.params);
      const nodes = flatten(explained.rows[0]?.['QUERY PLAN'][0].Plan);
      expect(nodes.map((n) => n['Relation Name']).filter(Boolean)).toEqual(['decisions']);
      expect(nodes.find((n) => n['Index Name'] === 'decisions__tenant_deal_idx')?.['Index Cond']).toContain('deal_id');
      for (const node of nodes) for (const key of ['Filter', 'Index Cond', 'Join Filter']) expect(JSON.stringify(node[key] ?? '')).not.toMatch(/->|input/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});

type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] };
const flatten = (node: PlanNode | undefined): PlanNode[] => (node ? [node, ...(node.Plans ?? []).flatMap(flatten)] : []);
