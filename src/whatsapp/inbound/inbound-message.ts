/**
 * The contract between the webhook route (which stores an inbound message and starts a run)
 * and the flow that processes it (src/os/inbound-whatsapp.flow.ts, registered at the
 * composition root): the flow's name and version, its input, and the idempotency key.
 */
export const INBOUND_WHATSAPP_FLOW = 'whatsapp:inbound';
export const INBOUND_WHATSAPP_FLOW_VERSION = '1';

/** What the webhook route hands the flow: one stored inbound message (its row id and content). */
export interface InboundWhatsAppInput {
  /** The `whatsapp_webhook_events` row: its `processed_at` is the exactly-once marker. */
  event_id: string;
  provider: string;
  provider_message_id: string;
  /** E.164, as the parser normalised it. */
  phone: string;
  name: string | null;
  text: string;
  /** The provider's timestamp for the message (or when we received it, when it sent none). */
  received_at: string;
}

/** The idempotency key of an inbound message, shared by the flow run and the gateway call. */
export const inboundIdempotencyKey = (provider: string, providerMessageId: string) => `wa:${provider}:${providerMessageId}`;
