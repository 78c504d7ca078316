/**
 * A WhatsApp provider (SPEC §4): sends one text message. The idempotency key is the flow's
 * side-effect key; a provider that supports it passes it on, so a retried or resumed send
 * is deduplicated by the receiver.
 *
 * - `accepted`: the provider took the message; `externalId` is its id for it.
 * - `transient`: timeout, 5xx, 429 — try again (or the next provider in the chain).
 * - `permanent`: invalid number and the like — do not retry, do not fall through.
 */
export type SendResult = { kind: 'accepted'; externalId: string } | { kind: 'transient'; reason: string } | { kind: 'permanent'; reason: string };

export interface OutboundWhatsApp {
  /** E.164 number. */
  to: string;
  text: string;
  idempotencyKey: string;
  /** The outbound_messages row this send carries out; providers may use it as a client reference. */
  outboundId: string;
}

export interface WhatsAppProvider {
  readonly name: string;
  send(message: OutboundWhatsApp): Promise<SendResult>;
}
