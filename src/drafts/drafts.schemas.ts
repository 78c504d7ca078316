import { z } from '@hono/zod-openapi';
import { ZPageMeta, ZPageQuery } from '../http/pagination.ts';

export const DRAFT_STATUSES = ['pending', 'approved', 'discarded'] as const;
export const ZDraftStatus = z.enum(DRAFT_STATUSES);

export const ZDraft = z
  .object({
    id: z.uuid(),
    contact_id: z.uuid(),
    deal_id: z.uuid().nullable(),
    text: z.string().nullable(),
    template_id: z.string().nullable(),
    language: z.enum(['ar', 'en']),
    reason: z.string(),
    status: ZDraftStatus,
    version: z.number().int().openapi({ description: 'Bumped on every text edit' }),
    last_edited_by: z.string().nullable(),
    decided_by: z.string().nullable(),
    decided_at: z.string().nullable().openapi({ format: 'date-time' }),
    decision_reason: z.string().nullable(),
    decision_id: z.uuid().nullable(),
    flow_run_id: z.uuid().nullable(),
    approval_request_id: z.uuid().nullable().openapi({ description: 'The approval request the gateway opened for this reply; deciding the draft withdraws it' }),
    created_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Draft');
export type TDraft = z.infer<typeof ZDraft>;

export const ZDraftPage = z.object({ data: z.array(ZDraft), ...ZPageMeta }).openapi('DraftPage');

export const ZListDraftsQuery = z.object({
  ...ZPageQuery,
  status: ZDraftStatus.optional().openapi({ param: { name: 'status', in: 'query' } }),
});
export type TListDraftsQuery = z.infer<typeof ZListDraftsQuery>;

export const ZEditDraftRequest = z.object({ text: z.string().trim().min(1, 'must not be empty').max(4096, 'must be at most 4096 characters') }).openapi('EditDraftRequest');
export type TEditDraftRequest = z.infer<typeof ZEditDraftRequest>;

export const ZRejectDraftRequest = z
  .object({ reason: z.string().trim().min(1, 'must not be empty').max(1000, 'must be at most 1000 characters') })
  .openapi('RejectDraftRequest');
export type TRejectDraftRequest = z.infer<typeof ZRejectDraftRequest>;

export const ZApproveDraftResponse = z
  .object({
    draft: ZDraft,
    approval_request_id: z.uuid().nullable(),
    decision_id: z.uuid(),
    flow_run_id: z.uuid(),
  })
  .openapi('ApproveDraftResponse');
export type TApproveDraftResponse = z.infer<typeof ZApproveDraftResponse>;
