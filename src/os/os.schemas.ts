import { z } from '@hono/zod-openapi';
import { ZName, ZPhone } from '../contacts/contacts.schemas.ts';
import { DEAL_STAGE_VALUES } from '../deals/deal-stages.ts';
import { LIFECYCLE_EVENT_VALUES, TEMPLATE_LANGUAGES } from '../deals/lifecycle.ts';
import { INTENT_VALUES } from '../intents/intents.ts';
import type { ProblemBody } from '../http/problem.ts';
import { ACTION_MODES } from './decide.ts';

const ZStage = z.enum(DEAL_STAGE_VALUES);

export const ZProcessRequest = z
  .strictObject({
    contact: z
      .strictObject({ phone: ZPhone, name: ZName.optional() })
      .optional()
      .openapi({ description: 'A contact by phone (normalised to E.164); a phone not on file is a new lead' }),
    contact_id: z.uuid({ message: 'must be a UUID' }).optional(),
    deal_id: z.uuid({ message: 'must be a UUID' }).optional().openapi({ description: "The deal; by default the contact's newest open deal" }),
    event: z
      .strictObject({
        type: z.enum(LIFECYCLE_EVENT_VALUES, { message: `must be one of ${LIFECYCLE_EVENT_VALUES.join(', ')}` }),
        text: z.string({ message: 'must be a string' }).trim().min(1, 'must not be empty').max(4000, 'must be at most 4000 characters').optional(),
        at: z.iso.datetime({ offset: true, message: 'must be an ISO date-time' }).optional().openapi({ description: 'When it happened; defaults to now' }),
        data: z.record(z.string(), z.unknown()).optional().openapi({ description: 'Event details (manual_stage_change: `to`); string values are template variables' }),
      })
      .superRefine((event, ctx) => {
        if (event.type === 'inbound_message' && event.text === undefined) ctx.addIssue({ code: 'custom', path: ['text'], message: 'is required for inbound_message' });
      }),
  })
  .superRefine((body, ctx) => {
    if ((body.contact === undefined) === (body.contact_id === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['contact'], message: 'give exactly one of contact or contact_id' });
    }
  })
  .openapi('ProcessRequest', {
    example: { contact: { phone: '0551234567', name: 'عبدالله' }, event: { type: 'inbound_message', text: 'السلام عليكم ابغى اعرف الاسعار' } },
  });
export type TProcessRequest = z.infer<typeof ZProcessRequest>;

const ZAction = z.object({
  action: z.string().openapi({ example: 'send_whatsapp' }),
  class: z.enum(['A', 'B', 'C']),
  mode: z.enum(ACTION_MODES),
  reason: z.string(),
  scheduled_for: z.string().optional().openapi({ format: 'date-time', description: 'The next business opening, when mode is scheduled' }),
});

export const ZProcessResponse = z
  .object({
    intent: z.enum(INTENT_VALUES).nullable().openapi({ description: 'null for events that are not messages' }),
    classification: z.object({ confidence: z.number(), language: z.string(), reason: z.string() }).nullable(),
    stage: z.object({ from: ZStage, to: ZStage, reason: z.string() }),
    actions: z.array(ZAction),
    reply: z
      .object({
        text: z.string(),
        language: z.enum(TEMPLATE_LANGUAGES),
        template: z.string(),
        template_version: z.number().int().openapi({ description: "0 = the built-in text, else the tenant's edit (PUT /os/templates/{id})" }),
        variables: z.record(z.string(), z.string()).openapi({ description: 'The values the template was filled with' }),
      })
      .nullable(),
    auto_send_allowed: z.boolean(),
    human_approval_required: z.boolean(),
    follow_up_at: z.string().nullable(),
    contact_id: z.uuid().nullable().openapi({ description: 'null when the phone is not on file yet' }),
    deal_id: z.uuid().nullable(),
    correlation_id: z.string(),
  })
  .openapi('ProcessResponse');
export type TProcessResponse = z.infer<typeof ZProcessResponse>;

const ZTemplate = z.object({ id: z.string(), purpose: z.string(), language: z.enum(TEMPLATE_LANGUAGES), text: z.string(), variables: z.array(z.string()), version: z.number().int() });

export const ZStageDescription = z
  .object({
    stage: ZStage,
    doc: z.string(),
    terminal: z.boolean(),
    transitions: z.array(ZStage),
    triggers: z.object({
      intents: z.array(z.object({ intent: z.enum(INTENT_VALUES), to: ZStage, reply: z.string().nullable(), follow_up_days: z.number().nullable(), reason: z.string() })),
      events: z.array(z.object({ event: z.enum(LIFECYCLE_EVENT_VALUES), to: ZStage })),
    }),
    entry_actions: z.array(z.object({ action: z.string(), class: z.enum(['A', 'B', 'C']), doc: z.string() })),
    templates: z.array(ZTemplate),
    qualification_questions: z.array(z.object({ id: z.string(), ar: z.string(), en: z.string() })),
    outbound_needs_human: z.boolean(),
    outbound_allowed: z.boolean(),
  })
  .openapi('StageDescription');

export const ZStagesResponse = z.object({ data: z.array(ZStageDescription) }).openapi('Stages');
export type TStagesResponse = z.infer<typeof ZStagesResponse>;

export const ZProcessAndActResponse = ZProcessResponse.extend({
  done: z
    .object({
      inbound_message_id: z.uuid().nullable().openapi({ description: 'The recorded inbound message; null for events that are not messages' }),
      contact_id: z.uuid(),
      deal_id: z.uuid(),
      activity_ids: z.array(z.uuid()).openapi({ description: 'Timeline entries this request wrote (deal_created, stage_changed)' }),
      decision_id: z.uuid().nullable().openapi({ description: 'The gateway decision for the reply, when one was sent through it' }),
      flow_run_id: z.uuid().nullable().openapi({ description: 'The send_whatsapp flow run, when the gateway accepted the reply' }),
      draft_id: z.uuid().nullable().openapi({ description: 'The draft written for a human, when the reply was not sent' }),
      cancelled_outbound_ids: z.array(z.uuid()).openapi({ description: 'Queued outbound messages cancelled by an opt-out' }),
      in_flight_outbound_ids: z.array(z.uuid()).openapi({
        description: 'On opt-out: messages already handed to a provider when it committed (cannot be taken back); no further provider is called for them',
      }),
      timed_reply_run_ids: z.array(z.uuid()).openapi({
        description: 'Durable timers started: the out-of-hours reply (sent at the next opening) and the not_now follow-up',
      }),
      cancelled_timed_reply_run_ids: z.array(z.uuid()).openapi({
        description: "Timers stopped: all of the contact's on opt-out, the deal's earlier ones when a new message arrives",
      }),
    })
    .openapi({ description: 'What was done, all in one transaction' }),
}).openapi('ProcessAndActResponse');
export type TProcessAndActResponse = z.infer<typeof ZProcessAndActResponse>;

export const BULK_PROCESS_MAX_EVENTS = 500;

export const ZBulkProcessRequest = z
  .strictObject({
    events: z
      .array(z.unknown().openapi({ description: 'A ProcessRequest (the body of POST /os/process), validated on its own' }))
      .min(1, 'must hold at least 1 event')
      .max(BULK_PROCESS_MAX_EVENTS, `must hold at most ${BULK_PROCESS_MAX_EVENTS} events`),
  })
  .openapi('BulkProcessRequest', {
    example: { events: [{ contact: { phone: '0551234567' }, event: { type: 'inbound_message', text: 'كم السعر؟' } }] },
  });

const ZItemProblem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    correlation_id: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional().openapi({ description: "Bad fields, named relative to the event" }),
  })
  .passthrough()
  .openapi('BulkProcessItemProblem');

export const ZBulkProcessResult = z.union([
  z.object({ index: z.number().int(), ok: z.literal(true), result: ZProcessResponse }),
  z.object({ index: z.number().int(), ok: z.literal(false), problem: ZItemProblem }),
]);
export type TBulkProcessResult =
  | { index: number; ok: true; result: TProcessResponse }
  | { index: number; ok: false; problem: ProblemBody };

export const ZBulkProcessResponse = z.object({ results: z.array(ZBulkProcessResult) }).openapi('BulkProcessResponse');
