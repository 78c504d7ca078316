import { z } from '@hono/zod-openapi';
import { ZPageMeta, ZPageQuery } from '../http/pagination.ts';
import { DEAL_STAGE_VALUES } from './deal-stages.ts';

export const ZDealStage = z.enum(DEAL_STAGE_VALUES, { message: `must be one of ${DEAL_STAGE_VALUES.join(', ')}` }).openapi('DealStage');

const ZHalalas = z
  .number({ message: 'must be a number' })
  .int('must be a whole number of halalas (1 SAR = 100 halalas)')
  .min(0, 'must not be negative')
  .max(Number.MAX_SAFE_INTEGER, 'is too large')
  .openapi({ example: 1_500_000, description: 'Deal value in halalas (1 SAR = 100 halalas)' });
const ZDate = z.iso.date({ message: 'must be a date (YYYY-MM-DD)' }).openapi({ example: '2026-12-31' });
const ZTitle = z.string().trim().min(1, 'must not be empty').max(300, 'must be at most 300 characters');

export const ZDeal = z
  .object({
    id: z.uuid(),
    contact_id: z.uuid(),
    title: z.string(),
    stage: ZDealStage,
    value_halalas: z.number().int(),
    value_sar: z.string().openapi({ example: '15000.00', description: 'The same value in SAR, as an exact decimal string' }),
    currency: z.literal('SAR'),
    owner_user_id: z.uuid().nullable(),
    expected_close_date: z.string().nullable(),
    stage_changed_at: z.string().openapi({ format: 'date-time' }),
    created_at: z.string().openapi({ format: 'date-time' }),
    updated_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Deal');
export type TDeal = z.infer<typeof ZDeal>;

export const ZCreateDealRequest = z
  .strictObject({
    contact_id: z.uuid({ message: 'must be a UUID' }),
    title: ZTitle,
    value_halalas: ZHalalas.default(0),
    owner_user_id: z.uuid({ message: 'must be a UUID' }).optional(),
    expected_close_date: ZDate.optional(),
  })
  .openapi('CreateDealRequest');
export type TCreateDealRequest = z.infer<typeof ZCreateDealRequest>;

export const ZUpdateDealRequest = z
  .strictObject({
    title: ZTitle.optional(),
    value_halalas: ZHalalas.optional(),
    owner_user_id: z.uuid({ message: 'must be a UUID' }).nullable().optional(),
    expected_close_date: ZDate.nullable().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'must change at least one field' })
  .openapi('UpdateDealRequest', { description: 'The stage is not editable here: use POST /deals/{id}/transitions.' });
export type TUpdateDealRequest = z.infer<typeof ZUpdateDealRequest>;

export const ZTransitionRequest = z
  .strictObject({
    to: ZDealStage,
    from: ZDealStage.optional().openapi({ description: 'The stage you saw; if the deal moved since, the transition is refused (409).' }),
    reason: z.string().trim().max(1000, 'must be at most 1000 characters').optional(),
  })
  .openapi('DealTransitionRequest');
export type TTransitionRequest = z.infer<typeof ZTransitionRequest>;

export const ZActivity = z
  .object({
    id: z.uuid(),
    deal_id: z.uuid(),
    type: z.string().openapi({ example: 'stage_changed' }),
    actor: z.string(),
    data: z.record(z.string(), z.unknown()),
    correlation_id: z.string().nullable(),
    created_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Activity');
export type TActivity = z.infer<typeof ZActivity>;

export const ZTransitionResponse = z
  .object({
    deal: ZDeal,
    activity: ZActivity,
    cancelled_outbound_ids: z.array(z.uuid()).optional().openapi({ description: 'Into opted_out: the queued messages of the contact cancelled in this transaction' }),
    cancelled_timed_reply_run_ids: z.array(z.uuid()).optional().openapi({ description: 'Into opted_out: the timed replies (out-of-hours, follow-ups) stopped' }),
    in_flight_outbound_ids: z
      .array(z.uuid())
      .optional()
      .openapi({ description: 'Into opted_out: messages already handed to a provider when the opt-out committed (cannot be taken back); no further provider is called for them' }),
  })
  .openapi('DealTransitionResponse');

const stageList = z
  .string()
  .transform((value) => value.split(',').map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(ZDealStage).min(1, 'must name at least one stage'));

export const ZListDealsQuery = z.object({
  ...ZPageQuery,
  stage: stageList.optional().openapi({ param: { name: 'stage', in: 'query' }, type: 'string', description: 'One stage or a comma-separated list' }),
  owner_user_id: z.uuid({ message: 'must be a UUID' }).optional().openapi({ param: { name: 'owner_user_id', in: 'query' } }),
  contact_id: z.uuid({ message: 'must be a UUID' }).optional().openapi({ param: { name: 'contact_id', in: 'query' } }),
});
export type TListDealsQuery = z.infer<typeof ZListDealsQuery>;

export const ZDealPage = z.object({ data: z.array(ZDeal), ...ZPageMeta }).openapi('DealPage');
export const ZActivityPage = z.object({ data: z.array(ZActivity), ...ZPageMeta }).openapi('ActivityPage');

const timelineBase = {
  at: z.string().openapi({ format: 'date-time' }),
  id: z.uuid(),
};

export const ZTimelineItem = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('activity'),
      ...timelineBase,
      type: z.string(),
      actor: z.string(),
      data: z.record(z.string(), z.unknown()),
      correlation_id: z.string().nullable(),
    }),
    z.object({
      kind: z.literal('inbound_message'),
      ...timelineBase,
      contact_id: z.uuid(),
      channel: z.string(),
      text: z.string(),
      intent: z.string().nullable(),
      confidence: z.number().nullable(),
      language: z.string().nullable(),
      correlation_id: z.string().nullable(),
    }),
    z.object({
      kind: z.literal('outbound_message'),
      ...timelineBase,
      contact_id: z.uuid(),
      channel: z.string(),
      body: z.string(),
      template_id: z.string().nullable(),
      language: z.string(),
      status: z.string(),
      sent_at: z.string().nullable(),
      flow_run_id: z.uuid().nullable(),
    }),
    z.object({
      kind: z.literal('decision'),
      ...timelineBase,
      action: z.string(),
      result: z.string(),
      reason: z.string(),
      policy_class: z.string(),
      actor: z.string(),
      flow_run_id: z.uuid().nullable(),
      correlation_id: z.string().nullable(),
    }),
  ])
  .openapi('TimelineItem');
export type TTimelineItem = z.infer<typeof ZTimelineItem>;

export const ZTimeline = z.object({ data: z.array(ZTimelineItem).openapi({ description: 'Oldest first' }) }).openapi('DealTimeline');

export const ZTimelineQuery = z.object({
  limit: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(500, 'must be at most 500')
    .default(200)
    .openapi({ param: { name: 'limit', in: 'query' }, example: 200, description: 'The newest entries to return (still listed oldest first)' }),
});
