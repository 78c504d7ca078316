import { expect } from 'vitest';
import type { TestApp, TestTenant } from './test-app.ts';

/** Sunday 2026-01-11 10:00 Asia/Riyadh: inside business hours, so early-stage replies are `auto`. */
export const SUNDAY_10_RIYADH = '2026-01-11T07:00:00Z';

/** The stages the demo seed's standing approval covers. */
export const EARLY_STAGES = ['new_lead', 'qualifying', 'qualified', 'nurturing', 'meeting_booked', 'meeting_done'];

/**
 * Grants the tenant a standing approval for templated WhatsApp replies in early stages.
 * Unlike the demo seed's, it has no hours condition: the gateway checks hours against the
 * real clock, and these tests must not depend on when they run.
 */
export async function grantTemplateReplies(t: TestApp, tenant: TestTenant): Promise<string> {
  const manager = await tenant.token('sales_manager', await tenant.addUser(['sales_manager']));
  const grant = await t.request('POST', '/api/v1/standing-approvals', {
    token: manager,
    body: { action: 'send_whatsapp', conditions: { stages: EARLY_STAGES, template_only: true }, expires_at: new Date(Date.now() + 3_600_000).toISOString() },
  });
  expect(grant.status, grant.text).toBe(201);
  return manager;
}
