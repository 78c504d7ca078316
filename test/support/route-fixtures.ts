import { expect } from 'vitest';
import { z } from 'zod';
import type { Role } from '../../src/auth/roles.ts';
import { defineFlow } from '../../src/flows/flow-definition.ts';
import type { ActionPlugin } from '../../src/gateway/task-router.ts';
import { SUNDAY_10_RIYADH } from './os-fixture.ts';
import type { TestApp, TestTenant } from './test-app.ts';
import { ZAnyFlowInput } from './flow-input.ts';

/**
 * A tenant with one record of every kind a path names (contacts, deals owned by two reps,
 * drafts, approval requests, a flow run, a dead letter, a standing approval, a webhook key),
 * and a token per role, so the suites that walk /openapi.json reach real rows.
 * No worker runs: flow runs stay pending, and nothing changes behind a test's back.
 */

/** Class B (not in the policy table): a call opens an approval request. */
export const notifyPartner: ActionPlugin = {
  action: 'notify_partner',
  description: 'test plugin: class B',
  payload: z.object({ partner: z.string() }),
  flows: [defineFlow({ input: ZAnyFlowInput, name: 'action:notify_partner', version: '1', steps: [{ name: 'send', run: async () => undefined, noCompensation: { reason: 'test sink', escalate: false } }] })],
};

/** The callers of the matrix: one per role; `sales_rep` is rep 1 and `rep2` a second sales_rep. */
export type Caller = Role | 'rep2';

export interface TenantFixtures {
  tenant: TestTenant;
  tokens: Record<Caller, string>;
  userIds: Record<Caller, string>;
  contactRep1: string;
  contactRep2: string;
  dealRep1: string;
  dealRep2: string;
  draftRep1: string;
  draftRep2: string;
  approvalRep1: string;
  approvalRep2: string;
  standingApproval: string;
  flowRun: string;
  deadLetter: string;
  webhookKey: string;
  /** Every id above: none may appear in another tenant's answers. */
  allIds(): string[];
}

const TO_NEGOTIATING = ['qualifying', 'qualified', 'meeting_booked', 'meeting_done', 'proposal_sent', 'negotiating'];

export async function createTenantFixtures(t: TestApp, slug: string, phonePrefix: string): Promise<TenantFixtures> {
  const tenant = await t.createTestTenant(slug);
  const roles: Role[] = ['sales_manager', 'sales_rep', 'compliance_officer', 'executive', 'system'];
  const userIds = { admin: tenant.adminId } as Record<Caller, string>;
  for (const role of roles) userIds[role] = await tenant.addUser([role]);
  userIds.rep2 = await tenant.addUser(['sales_rep']);
  const tokens = {} as Record<Caller, string>;
  for (const caller of Object.keys(userIds) as Caller[]) tokens[caller] = await tenant.token(caller === 'rep2' ? 'sales_rep' : caller, userIds[caller]);
  const admin = tokens.admin;

  const ok = async (method: string, path: string, body: unknown, token = admin) => {
    const response = await t.request(method, path, { token, body });
    expect(response.status, `${method} ${path}: ${response.text}`).toBeLessThan(300);
    return response.json;
  };
  const contactRep1 = (await ok('POST', '/api/v1/contacts', { phone: `${phonePrefix}01`, name: 'Rep one contact', owner_user_id: userIds.sales_rep })).id as string;
  const contactRep2 = (await ok('POST', '/api/v1/contacts', { phone: `${phonePrefix}02`, name: 'Rep two contact', owner_user_id: userIds.rep2 })).id as string;
  const dealRep1 = (await ok('POST', '/api/v1/deals', { contact_id: contactRep1, title: 'Rep one deal', owner_user_id: userIds.sales_rep })).id as string;
  const dealRep2 = (await ok('POST', '/api/v1/deals', { contact_id: contactRep2, title: 'Rep two deal', owner_user_id: userIds.rep2 })).id as string;

  // Drafts: a price question in negotiating is answered by a draft for a human.
  const draftOf = async (contactId: string, dealId: string) => {
    for (const to of TO_NEGOTIATING) await ok('POST', `/api/v1/deals/${dealId}/transitions`, { to });
    const acted = await ok('POST', '/api/v1/os/process-and-act', { contact_id: contactId, deal_id: dealId, event: { type: 'inbound_message', text: 'كم السعر النهائي؟', at: SUNDAY_10_RIYADH } });
    expect(acted.done?.draft_id, JSON.stringify(acted)).toBeTruthy();
    return acted.done.draft_id as string;
  };
  const draftRep1 = await draftOf(contactRep1, dealRep1);
  const draftRep2 = await draftOf(contactRep2, dealRep2);

  const approvalOf = async (token: string, partner: string) => {
    const decision = await ok('POST', '/api/v1/gateway/execute', { action: 'notify_partner', payload: { partner } }, token);
    expect(decision.result).toBe('requires_approval');
    return decision.approval_request_id as string;
  };
  const approvalRep1 = await approvalOf(tokens.sales_rep, `${slug}-rep1`);
  const approvalRep2 = await approvalOf(tokens.rep2, `${slug}-rep2`);

  const standingApproval = (
    await ok(
      'POST',
      '/api/v1/standing-approvals',
      { action: 'send_whatsapp', conditions: { stages: ['new_lead'], template_only: true }, expires_at: new Date(Date.now() + 86_400_000).toISOString() },
      tokens.sales_manager,
    )
  ).id as string;

  const run = await ok('POST', '/api/v1/gateway/execute', { action: 'tag', payload: { deal_id: dealRep1, tags: ['fixture'] } });
  expect(run.result).toBe('accepted');
  const flowRun = run.flow_run_id as string;
  const letter = await t.superuser.query<{ id: string }>(
    `INSERT INTO dead_letters (tenant_id, run_id, flow_name, step, error, attempts) VALUES ($1, $2, 'action:tag', 'tag', '{"message":"fixture"}', 1) RETURNING id`,
    [tenant.id, flowRun],
  );
  const deadLetter = letter.rows[0]!.id;

  const key = await ok('POST', '/api/v1/whatsapp/webhook-key', {});
  const webhookKey = String(key.urls['green-api']).split('/').at(-1) as string;

  const ids = { contactRep1, contactRep2, dealRep1, dealRep2, draftRep1, draftRep2, approvalRep1, approvalRep2, standingApproval, flowRun, deadLetter };
  return { tenant, tokens, userIds, ...ids, webhookKey, allIds: () => [...Object.values(ids)] };
}

/** The template of a path with its parameters filled from `f` (the records of rep 1, where it matters). */
export function fillPath(template: string, f: TenantFixtures, overrides: Record<string, string> = {}): string {
  const byPrefix: Array<[string, string]> = [
    ['/api/v1/contacts/', f.contactRep1],
    ['/api/v1/deals/', f.dealRep1],
    ['/api/v1/approvals/', f.approvalRep1],
    ['/api/v1/standing-approvals/', f.standingApproval],
    ['/api/v1/flows/', f.flowRun],
    ['/api/v1/dead-letters/', f.deadLetter],
    ['/api/v1/drafts/', f.draftRep1],
    ['/api/v1/os/templates/', 'welcome.named.en'],
  ];
  return template.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    if (overrides[name] !== undefined) return encodeURIComponent(overrides[name]);
    switch (name) {
      case 'action':
        return 'notify_partner';
      case 'name':
        return 'green-api';
      case 'provider':
        return 'green-api';
      case 'key':
        return f.webhookKey;
      case 'id': {
        const hit = byPrefix.find(([prefix]) => template.startsWith(prefix));
        if (!hit) throw new Error(`no fixture for {id} in ${template}: add one to fillPath`);
        return hit[1];
      }
      default:
        throw new Error(`no fixture for {${name}} in ${template}: add one to fillPath`);
    }
  });
}
