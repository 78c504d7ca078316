import { z } from '@hono/zod-openapi';
import { ZPageMeta, ZPageQuery } from '../http/pagination.ts';

export const ZAction = z
  .string()
  .regex(/^[a-z][a-z0-9_]{1,63}$/, 'must be a snake_case action name')
  .openapi({ example: 'tag' });

export const ZExecuteRequest = z
  .strictObject({
    action: ZAction,
    payload: z.record(z.string(), z.unknown()).default({}).openapi({ example: { deal_id: '01a1ff9e-b053-76af-9af4-54c33d322e5e', tags: ['vip'] } }),
    approval_token: z.string().min(10).max(4096).optional().openapi({ description: 'From POST /approvals/{id}/approve; bound to this action and payload, single use.' }),
  })
  .openapi('ExecuteRequest');

export const ZDecision = z
  .object({
    decision_id: z.uuid(),
    correlation_id: z.string(),
    result: z.enum(['accepted', 'requires_approval', 'forbidden', 'blocked', 'failed']),
    reason: z.string(),
    action: z.string(),
    policy_class: z.enum(['A', 'B', 'C']),
    matched_rule: z.string(),
    policy_version: z.string(),
    canary_version: z.string().nullable(),
    payload_sha256: z.string(),
    approval_request_id: z.uuid().nullable(),
    standing_approval_id: z.uuid().nullable(),
    flow_run_id: z.uuid().nullable(),
  })
  .openapi('Decision');
export type TDecision = z.infer<typeof ZDecision>;

export const ZDecisionRecord = z
  .object({
    id: z.uuid(),
    correlation_id: z.string().nullable(),
    actor: z.string(),
    action: z.string(),
    policy_class: z.string(),
    matched_rule: z.string(),
    policy_version: z.string(),
    payload_sha256: z.string(),
    result: z.string(),
    reason: z.string(),
    approval_request_id: z.uuid().nullable(),
    standing_approval_id: z.uuid().nullable(),
    approval_token_id: z.string().nullable(),
    canary_version: z.string().nullable(),
    flow_run_id: z.uuid().nullable(),
    created_at: z.string(),
  })
  .openapi('DecisionRecord');

export const ZListDecisionsQuery = z.object({
  ...ZPageQuery,
  action: ZAction.optional().openapi({ param: { name: 'action', in: 'query' } }),
  result: z.enum(['accepted', 'requires_approval', 'forbidden', 'blocked', 'failed']).optional().openapi({ param: { name: 'result', in: 'query' } }),
  from: z.iso.datetime({ offset: true, message: 'must be an ISO date-time' }).optional().openapi({ param: { name: 'from', in: 'query' } }),
  to: z.iso.datetime({ offset: true, message: 'must be an ISO date-time' }).optional().openapi({ param: { name: 'to', in: 'query' } }),
});
export const ZDecisionPage = z.object({ data: z.array(ZDecisionRecord), ...ZPageMeta }).openapi('DecisionPage');

export const ZPolicyOverrideRequest = z
  .strictObject({
    class: z.enum(['B', 'C'], { message: "must be 'B' or 'C' (a tenant may only tighten)" }),
    reason: z.string().trim().min(3).max(500),
  })
  .openapi('PolicyOverrideRequest');

export const ZPolicyView = z
  .object({
    version: z.string(),
    canary: z.boolean(),
    classes: z.object({ A: z.array(z.string()), B: z.array(z.string()), C: z.array(z.string()) }),
    unknown_actions: z.string(),
    overrides: z.array(z.object({ action: z.string(), class: z.string(), reason: z.string(), created_by: z.string(), created_at: z.string() })),
    plugins: z.array(z.object({ action: z.string(), description: z.string() })),
  })
  .openapi('Policy');
