import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { whatsappWebhookEvents } from '../db/schema.ts';
import { defineFlow, type FlowDefinition } from '../flows/flow-definition.ts';
import type { TaskRouter } from '../gateway/task-router.ts';
import { processAndAct } from './process-and-act.ts';
import { ZProcessRequest } from './os.schemas.ts';
import { INBOUND_WHATSAPP_FLOW, INBOUND_WHATSAPP_FLOW_VERSION, inboundIdempotencyKey, ZInboundWhatsAppInput, type InboundWhatsAppInput } from '../whatsapp/inbound/inbound-message.ts';

/**
 * Processes one inbound WhatsApp message, after the webhook was acknowledged: the route only
 * stores the event and starts this run, so the provider gets its 200 fast and a slow
 * classification or gateway call never makes it retry.
 *
 * One step, one transaction: the event row is locked, `processAndAct` records the message,
 * moves the deal and replies (or drafts), and `processed_at` is set, all committed together.
 * A step re-run after a crash between commit and checkpoint finds `processed_at` and does
 * nothing; two workers racing on the same row wait on the row lock, and the second sees it set.
 *
 * @example
 * router.registry.register(createInboundWhatsAppFlow({ router, masterKey }));
 */
export function createInboundWhatsAppFlow(deps: { router: TaskRouter; masterKey: Buffer }): FlowDefinition<InboundWhatsAppInput> {
  return defineFlow({
    name: INBOUND_WHATSAPP_FLOW,
    version: INBOUND_WHATSAPP_FLOW_VERSION,
    input: ZInboundWhatsAppInput,
    steps: [
      {
        name: 'process',
        run: async (ctx) =>
          ctx.db(async (tx) => {
            const { input } = ctx;
            const [event] = await tx
              .select({ processedAt: whatsappWebhookEvents.processedAt })
              .from(whatsappWebhookEvents)
              .where(eq(whatsappWebhookEvents.id, input.event_id))
              .for('update');
            if (!event) return { output: { status: 'skipped', reason: `webhook event ${input.event_id} no longer exists` } };
            if (event.processedAt) return { output: { status: 'already_processed', processed_at: event.processedAt.toISOString() } };

            const markProcessed = () =>
              tx
                .update(whatsappWebhookEvents)
                .set({ processedAt: sql`now()` })
                .where(and(eq(whatsappWebhookEvents.id, input.event_id), sql`${whatsappWebhookEvents.processedAt} IS NULL`));

            // The same validation /os/process-and-act applies: an empty text (a provider sent only
            // whitespace) or a name too long is refused here, not half-processed. Marked processed,
            // so a redelivery or a replay does not try again; the event row keeps what was said.
            const request = ZProcessRequest.safeParse({
              contact: { phone: input.phone, ...(input.name ? { name: input.name } : {}) },
              event: { type: 'inbound_message', text: input.text, at: input.received_at },
            });
            if (!request.success) {
              await markProcessed();
              const fields = request.error.issues.map((issue) => issue.path.join('.')).join(', ');
              return { output: { status: 'skipped', reason: `not processable: invalid ${fields}` } };
            }

            const result = await processAndAct({
              tx,
              tenantId: ctx.tenantId,
              input: request.data,
              scope: {},
              actor: `whatsapp:${input.provider}`,
              correlationId: ctx.correlationId ?? randomUUID(),
              idempotencyKey: inboundIdempotencyKey(input.provider, input.provider_message_id),
              deps: { router: deps.router, masterKey: deps.masterKey, logger: ctx.logger },
            });
            await markProcessed();
            return {
              output: {
                status: 'processed',
                intent: result.intent,
                stage: { from: result.stage.from, to: result.stage.to },
                inbound_message_id: result.done.inbound_message_id,
                contact_id: result.done.contact_id,
                deal_id: result.done.deal_id,
                draft_id: result.done.draft_id,
                flow_run_id: result.done.flow_run_id,
                timed_reply_run_ids: result.done.timed_reply_run_ids,
              },
            };
          }),
        noCompensation: {
          reason: 'the processing commits with processed_at in one transaction: done exactly once, or not at all; a reply it started compensates itself',
          escalate: false,
        },
      },
    ],
  });
}
