import { WHATSAPP_PROVIDER_NAMES, type WhatsAppProviderName } from '../../config/whatsapp-env.ts';
/**
 * A WhatsApp provider (SPEC §4, issue 5): sends one message. The idempotency key is the flow's
 * side-effect key; a provider that supports it passes it on (a client reference), so a retried
 * or resumed send can be deduplicated by the receiver.
 *
 * - `accepted`: the provider took the message; `externalId` is its id for it. Accepted is not
 *   delivered (Green API, Ultramsg and Fonnte queue while the phone is offline), so once a
 *   provider has accepted, no other provider may send the same message.
 * - `transient`: timeout, connection refused, 5xx, 429 — retry later or try the next provider.
 * - `permanent`: invalid number, not on WhatsApp (Meta 131026), bad credentials — no retry and
 *   no fallback: another provider would fail the same way or reach the customer twice.
 *
 * `code` is the provider's own error code when it gave one (Meta's `131047`, an HTTP status
 * such as `http_429`), so callers can branch on it; `reason` is for people and never holds a
 * credential.
 */
export type SendResult =
  | { kind: 'accepted'; externalId: string }
  | { kind: 'transient'; reason: string; code?: string; retryAfterMs?: number }
  | { kind: 'permanent'; reason: string; code?: string };

/** The provider names, in SPEC §4's default fallback order, then the offline sandbox. */
export const PROVIDER_NAMES = ['green-api', 'ultramsg', 'fonnte', 'meta-cloud', 'sandbox'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];
/** The providers that reach real phones (everything but the sandbox); the environment names them too (src/config). */
export const REAL_PROVIDER_NAMES = WHATSAPP_PROVIDER_NAMES;
export type RealProviderName = WhatsAppProviderName;

/** A Meta-approved message template (the only thing Meta delivers outside the 24-hour window). */
export interface WhatsAppTemplate {
  name: string;
  language: 'ar' | 'en';
  /** Body parameters, in the order the approved template numbers them. */
  parameters: readonly string[];
}

export interface OutboundWhatsApp {
  /** E.164 number, for example +966512345678. */
  to: string;
  text: string;
  idempotencyKey: string;
  /** The outbound_messages row this send carries out; providers may use it as a client reference. */
  outboundId: string;
  /** When set, providers that support templates (Meta) send the template instead of `text`. */
  template?: WhatsAppTemplate | undefined;
}

export interface WhatsAppProvider {
  readonly name: ProviderName;
  send(message: OutboundWhatsApp): Promise<SendResult>;
}
