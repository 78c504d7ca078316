import { z } from 'zod';
import { inboundIdToE164 } from './inbound-phone.ts';
import { nonEmpty, parseBody, unixSecondsToDate, type InboundStatusValue, type InboundWebhookEvent, storableEvents, type ParseResult } from './webhook-events.ts';

/**
 * Meta WhatsApp Cloud API webhooks (whatsapp-providers.md §4). Source: developers.facebook.com
 * webhooks/reference/messages (text and status). One POST may batch several entries, changes,
 * messages and statuses, so every level is looped over.
 */

const ZMetaError = z.object({
  code: z.number(),
  title: z.string().optional(),
  message: z.string().optional(),
  error_data: z.object({ details: z.string().optional() }).optional(),
});
type TMetaError = z.infer<typeof ZMetaError>;

const ZMetaMessage = z
  .object({
    from: z.string().min(1),
    id: z.string().min(1),
    timestamp: z.string(),
    type: z.string().min(1),
    text: z.object({ body: z.string() }).optional(),
  })
  .superRefine((message, ctx) => {
    if (message.type === 'text' && message.text === undefined) {
      ctx.addIssue({ code: 'custom', path: ['text', 'body'], message: 'is required for type text' });
    }
  });

const ZMetaStatus = z.object({
  id: z.string().min(1),
  status: z.string().min(1),
  timestamp: z.string().optional(),
  recipient_id: z.string().optional(),
  errors: z.array(ZMetaError).optional(),
});

const ZMetaContact = z.object({ wa_id: z.string().optional(), profile: z.object({ name: z.string().optional() }).optional() });
type TMetaContact = z.infer<typeof ZMetaContact>;

const ZMetaValue = z.object({
  contacts: z.array(ZMetaContact).optional(),
  messages: z.array(ZMetaMessage).optional(),
  statuses: z.array(ZMetaStatus).optional(),
  errors: z.array(ZMetaError).optional(),
});

const ZMetaChange = z
  .object({ field: z.string().min(1), value: z.unknown() })
  // Only the `messages` field has a value shape we know; other subscribed fields
  // (message_template_status_update, account_update…) pass through and are ignored.
  .superRefine((change, ctx) => {
    if (change.field !== 'messages') return;
    const value = ZMetaValue.safeParse(change.value);
    if (!value.success) for (const issue of value.error.issues) ctx.addIssue({ ...issue, path: ['value', ...issue.path] });
  });

const ZMetaWebhook = z.object({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(z.object({ id: z.string().optional(), changes: z.array(ZMetaChange) })),
});

/** `played` is for voice messages; for our text sends it can only mean the customer listened/read. */
const META_STATUS: Readonly<Record<string, InboundStatusValue>> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  played: 'read',
  failed: 'failed',
};

/**
 * Parses one Meta Cloud API webhook body into normalised events, in body order (entry by entry,
 * change by change: messages, then statuses, then change-level errors).
 *
 * - `messages[]` of type `text` → `message` (sender name from `contacts[]` matched by `wa_id`);
 *   other types (image, reaction, location, unsupported…) → `ignored`.
 * - `statuses[]` → `status` (`played` → read); `errors[0].code` → errorCode (e.g. `131047`).
 * - `errors[]` on the change (not tied to a message id) → `ignored` with the code.
 * - Changes of another `field` → `ignored`.
 *
 * @example
 * parseMetaCloudWebhook({ object: 'page', entry: [] })
 * // { ok: false, errors: [{ field: 'object', message: 'Invalid input: expected "whatsapp_business_account"' }] }
 */
export function parseMetaCloudWebhook(body: unknown): ParseResult {
  return storableEvents(parseEvents(body));
}

function parseEvents(body: unknown): ParseResult {
  const parsed = parseBody(ZMetaWebhook, body);
  if (!parsed.ok) return parsed;

  const events: InboundWebhookEvent[] = [];
  for (const entry of parsed.data.entry) {
    for (const change of entry.changes) {
      if (change.field !== 'messages') {
        events.push({ kind: 'ignored', reason: `change field ${change.field} is not handled` });
        continue;
      }
      // Already validated by ZMetaChange's refinement; parse again for the typed value.
      const value = ZMetaValue.parse(change.value);
      for (const message of value.messages ?? []) events.push(messageEvent(message, value.contacts ?? []));
      for (const status of value.statuses ?? []) events.push(statusEvent(status));
      for (const error of value.errors ?? []) events.push({ kind: 'ignored', reason: `webhook error ${error.code}${describeError(error) ? `: ${describeError(error)}` : ''}` });
    }
  }
  return { ok: true, events };
}

function messageEvent(message: z.infer<typeof ZMetaMessage>, contacts: readonly TMetaContact[]): InboundWebhookEvent {
  if (message.type !== 'text' || message.text === undefined) return { kind: 'ignored', reason: `non-text message type ${message.type}` };
  const fromE164 = inboundIdToE164(message.from);
  // UNCONFIRMED: newer Meta docs mention business-scoped user ids in place of the phone number.
  // We cannot answer or match such a sender to a contact, so it is reported, not guessed at.
  if (fromE164 === undefined) return { kind: 'ignored', reason: 'sender is not a phone number (business-scoped user id?)' };
  const contact = contacts.find((candidate) => candidate.wa_id === message.from);
  return {
    kind: 'message',
    providerMessageId: message.id,
    fromE164,
    text: message.text.body,
    senderName: nonEmpty(contact?.profile?.name),
    receivedAt: unixSecondsToDate(message.timestamp),
  };
}

function statusEvent(status: z.infer<typeof ZMetaStatus>): InboundWebhookEvent {
  const mapped = Object.hasOwn(META_STATUS, status.status) ? META_STATUS[status.status] : undefined;
  if (mapped === undefined) return { kind: 'ignored', reason: `status ${status.status} is not handled` };
  const firstError = status.errors?.[0];
  return {
    kind: 'status',
    externalId: status.id,
    status: mapped,
    // Meta says to branch on the numeric code (131047 re-engagement, 131026 undeliverable), not titles.
    errorCode: firstError ? String(firstError.code) : null,
    errorReason: firstError ? describeError(firstError) : null,
    at: unixSecondsToDate(status.timestamp),
  };
}

/** "Title: details" for people; `message` stands in for a missing title (older payloads). */
function describeError(error: TMetaError): string | null {
  const title = nonEmpty(error.title) ?? nonEmpty(error.message);
  const details = nonEmpty(error.error_data?.details);
  if (title !== null && details !== null && details !== title) return `${title}: ${details}`;
  return title ?? details;
}
