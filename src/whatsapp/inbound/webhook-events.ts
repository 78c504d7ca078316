import { z } from 'zod';
import { DELIVERY_STATUS_VALUES, type DeliveryStatus } from '../outbound/delivery-status.ts';

/**
 * The normalised result of parsing one provider webhook. Every provider parser
 * (`parse-green-api.ts`, `parse-ultramsg.ts`, `parse-fonnte.ts`, `parse-meta-cloud.ts`) returns
 * the same three kinds, so the route and the inbound use case never branch on the provider.
 *
 * Pure data: no database, no clock, no credentials. Dates are the provider's own timestamps
 * (`null` when the provider sent none), never "now", so re-parsing a redelivered webhook gives
 * identical events.
 */

/** Delivery states we track for our own outbound messages (src/whatsapp/outbound/delivery-status.ts). */
export const INBOUND_STATUS_VALUES = DELIVERY_STATUS_VALUES;
export type InboundStatusValue = DeliveryStatus;

export const ZInboundMessageEvent = z.object({
  kind: z.literal('message'),
  /** The provider's id for the inbound message; the dedup key for redelivered webhooks. */
  providerMessageId: z.string().min(1),
  fromE164: z.string().regex(/^\+\d{8,15}$/),
  text: z.string(),
  senderName: z.string().nullable(),
  /** The provider's timestamp for the message, not the time we received the webhook. */
  receivedAt: z.date().nullable(),
  /**
   * Green API only: WhatsApp could not decrypt the message (`{{SWE001}}`/`{{SWE003}}` in the
   * text). The text is kept as is; the product should ask the customer to send it again.
   */
  decryptionFailed: z.literal(true).optional(),
});
export type InboundMessageEvent = z.infer<typeof ZInboundMessageEvent>;

export const ZInboundStatusEvent = z.object({
  kind: z.literal('status'),
  /** The provider's id of OUR outbound message (what its send call returned, or its webhook id). */
  externalId: z.string().min(1),
  status: z.enum(INBOUND_STATUS_VALUES),
  /** The provider's own code (Meta `131047`, Green API `noAccount`, Fonnte `invalid`). */
  errorCode: z.string().nullable(),
  /** For people; never holds a credential. */
  errorReason: z.string().nullable(),
  at: z.date().nullable(),
});
export type InboundStatusEvent = z.infer<typeof ZInboundStatusEvent>;

export const ZIgnoredWebhookEvent = z.object({
  kind: z.literal('ignored'),
  /** Why: echo of our own send, non-text message type, group message, device status… Never a secret. */
  reason: z.string(),
});
export type IgnoredWebhookEvent = z.infer<typeof ZIgnoredWebhookEvent>;

export const ZInboundWebhookEvent = z.discriminatedUnion('kind', [ZInboundMessageEvent, ZInboundStatusEvent, ZIgnoredWebhookEvent]);
/**
 * One thing a webhook told us.
 *
 * @example
 * const event: InboundWebhookEvent = { kind: 'ignored', reason: 'echo of our own send' };
 */
export type InboundWebhookEvent = z.infer<typeof ZInboundWebhookEvent>;

/** A field of the provider body that is missing or has the wrong type; `field` is a dotted path. */
export interface WebhookFieldError {
  field: string;
  message: string;
}

/**
 * What every provider parser returns. `ok: false` means the body is not the provider's
 * documented shape: the route answers 400 and stores nothing. Valid bodies we do not act on
 * (echoes, images, groups) are `ok: true` with `ignored` events, so the provider gets a 200 and
 * stops retrying.
 *
 * @example
 * const result: ParseResult = { ok: false, errors: [{ field: 'typeWebhook', message: 'is required' }] };
 */
export type ParseResult = { ok: true; events: InboundWebhookEvent[] } | { ok: false; errors: WebhookFieldError[] };

/**
 * Runs a zod schema and turns its issues into `WebhookFieldError`s with dotted paths
 * (`entry.0.changes.1.value.messages.0.from`), so a 400 names exactly what was wrong.
 *
 * @example
 * const parsed = parseBody(z.object({ a: z.string() }), {});
 * // { ok: false, errors: [{ field: 'a', message: 'Invalid input: expected string, received undefined' }] }
 */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): { ok: true; data: T } | { ok: false; errors: WebhookFieldError[] } {
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true, data: parsed.data };
  return { ok: false, errors: parsed.error.issues.map((issue) => ({ field: fieldName(issue.path), message: issue.message })) };
}

/**
 * A provider string as we store it (text and jsonb columns): U+0000 removed, since PostgreSQL
 * cannot store it, and a lone UTF-16 surrogate replaced by U+FFFD; everything else kept. A
 * message is never refused for these: the provider would redeliver it forever and it would be lost.
 *
 * @example
 * storableText('مرحبا\u0000') // 'مرحبا'
 */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '').toWellFormed();
}

/**
 * Every string of every parsed event made {@link storableText}, then checked against the event
 * schema. Each provider parser returns through this, so no event, whatever the provider sent,
 * carries what the database refuses. An id that was nothing but U+0000 is empty once stored:
 * the body is refused (400) rather than stored under an id no redelivery could match.
 */
export function storableEvents(result: ParseResult): ParseResult {
  if (!result.ok) return result;
  const events: InboundWebhookEvent[] = [];
  const errors: WebhookFieldError[] = [];
  result.events.forEach((event, index) => {
    const cleaned = Object.fromEntries(Object.entries(event).map(([key, value]) => [key, typeof value === 'string' ? storableText(value) : value]));
    const checked = ZInboundWebhookEvent.safeParse(cleaned);
    if (checked.success) events.push(checked.data);
    else for (const issue of checked.error.issues) errors.push({ field: `event ${index}: ${fieldName(issue.path)}`, message: `${issue.message} (once U+0000 and lone surrogates are removed)` });
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, events };
}

/** `[]` is the body itself; zod paths may hold symbols in theory, so stringify everything. */
function fieldName(path: readonly PropertyKey[]): string {
  return path.length === 0 ? 'body' : path.map(String).join('.');
}

/**
 * Unix seconds, as a number or a numeric string (providers disagree), to a Date; anything else
 * (missing, empty, zero, garbage, past the last representable Date) is `null` rather than a made-up time.
 *
 * @example
 * unixSecondsToDate('1749416383')?.toISOString() // '2025-06-08T20:59:43.000Z'
 */
export function unixSecondsToDate(value: number | string | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  const seconds = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isFinite(seconds) || seconds <= 0) return null;
  const date = new Date(seconds * 1000);
  // Past year 275760 a Date is invalid and toISOString() throws: no provider means such a time.
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A provider field documented as an id or number but sent as either (Fonnte, Ultramsg). */
export const ZStringOrNumber = z.union([z.string(), z.number()]);

/** An empty or whitespace-only provider string (Green API sends `""` for unknown names) is no value. */
export function nonEmpty(value: string | null | undefined): string | null {
  return value !== null && value !== undefined && value.trim() !== '' ? value : null;
}
