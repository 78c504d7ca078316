import { z } from 'zod';
import { ZInboundMessageEvent } from './webhook-events.ts';

/**
 * The contract between the webhook route (which stores an inbound message and starts a run)
 * and the flow that processes it (src/os/inbound-whatsapp.flow.ts, registered at the
 * composition root): the flow's name and version, its input, and the idempotency key.
 */
export const INBOUND_WHATSAPP_FLOW = 'whatsapp:inbound';
export const INBOUND_WHATSAPP_FLOW_VERSION = '1';

/** What the webhook route hands the flow: one stored inbound message (its row id and content). */
export const ZInboundWhatsAppInput = z.object({
  /** The `whatsapp_webhook_events` row: its `processed_at` is the exactly-once marker. */
  event_id: z.uuid(),
  provider: z.string().min(1),
  provider_message_id: z.string().min(1),
  /** E.164, as the parser normalised it. */
  phone: ZInboundMessageEvent.shape.fromE164,
  name: z.string().nullable(),
  text: z.string(),
  /** The provider's timestamp for the message (or when we received it, when it sent none). */
  received_at: z.iso.datetime({ offset: true }),
});
export type InboundWhatsAppInput = z.infer<typeof ZInboundWhatsAppInput>;

/** The idempotency key of an inbound message, shared by the flow run and the gateway call. */
export const inboundIdempotencyKey = (provider: string, providerMessageId: string) => `wa:${provider}:${providerMessageId}`;
