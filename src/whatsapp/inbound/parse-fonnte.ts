import { createHash } from 'node:crypto';
import { z } from 'zod';
import { inboundIdToE164 } from './inbound-phone.ts';
import { nonEmpty, parseBody, unixSecondsToDate, ZStringOrNumber, type InboundWebhookEvent, storableEvents, type ParseResult } from './webhook-events.ts';

/**
 * Fonnte webhooks (whatsapp-providers.md §3). Sources: docs.fonnte.com webhook-reply-message,
 * webhook-update-message-status, webhook-device-status. Fonnte has no event-type field, so the
 * kind of webhook is told apart by its keys:
 *
 * - `token` → device status (device, status, token, timestamp, reason). Checked first: it also
 *   has `device` and `status`, and it carries the device token, which must never be echoed.
 * - `sender` + `message` → inbound message.
 * - `id`/`stateid` + `status`/`state` → status of a message we sent.
 *
 * The value types of `timestamp`, `inboxid` and `member` are UNCONFIRMED: number or string both pass.
 */

const ZFonnteMessage = z.object({
  device: ZStringOrNumber.optional(),
  sender: ZStringOrNumber,
  message: z.string(),
  member: ZStringOrNumber.nullable().optional(),
  name: z.string().nullable().optional(),
  timestamp: ZStringOrNumber.nullable().optional(),
  inboxid: ZStringOrNumber.nullable().optional(),
});

/**
 * UNCONFIRMED semantics: `status` is the sending state (the deprecated status API's sent, pending,
 * waiting, invalid, expired, processing, url unreachable) and `state` the WhatsApp delivery state
 * (assumed delivered/read), linked by `stateid`. Either may be absent.
 */
const ZFonnteMessageStatus = z.object({
  id: ZStringOrNumber.nullable().optional(),
  stateid: ZStringOrNumber.nullable().optional(),
  status: z.string().nullable().optional(),
  state: z.string().nullable().optional(),
});

/** Only `status` is read (connect/disconnect); the token and free-text reason never leave this file. */
const ZFonnteDeviceStatus = z.object({ status: z.string().optional() });

/** Not yet on WhatsApp: no news for the outbound row, and certainly not a failure. */
const FONNTE_IN_PROGRESS = new Set(['pending', 'waiting', 'processing']);
/** Will never be sent: invalid (no WhatsApp), expired (device offline 7 days), url unreachable (media). */
const FONNTE_FAILED = new Set(['invalid', 'expired', 'url unreachable']);

/**
 * Parses one Fonnte webhook body into normalised events.
 *
 * @example
 * parseFonnteWebhook({ device: '966501234567', sender: '966512345678', message: 'مرحبا', timestamp: 1749416383, inboxid: 7 })
 * // { ok: true, events: [{ kind: 'message', providerMessageId: '7', fromE164: '+966512345678', text: 'مرحبا', … }] }
 */
export function parseFonnteWebhook(body: unknown): ParseResult {
  return storableEvents(parseEvents(body));
}

function parseEvents(body: unknown): ParseResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ field: 'body', message: 'must be a JSON object' }] };
  }
  if ('token' in body) {
    const parsed = parseBody(ZFonnteDeviceStatus, body);
    const status = parsed.ok ? safeWord(parsed.data.status) : null;
    return { ok: true, events: [{ kind: 'ignored', reason: status ? `device status update (${status})` : 'device status update' }] };
  }
  if ('sender' in body || 'message' in body) {
    const parsed = parseBody(ZFonnteMessage, body);
    return parsed.ok ? { ok: true, events: [messageEvent(parsed.data)] } : parsed;
  }
  if (('id' in body || 'stateid' in body) && ('status' in body || 'state' in body)) {
    const parsed = parseBody(ZFonnteMessageStatus, body);
    return parsed.ok ? { ok: true, events: [statusEvent(parsed.data)] } : parsed;
  }
  return {
    ok: false,
    errors: [
      { field: 'sender', message: 'is required (an inbound message has sender and message)' },
      { field: 'message', message: 'is required (a status update has id and status or state instead)' },
    ],
  };
}

function messageEvent(webhook: z.infer<typeof ZFonnteMessage>): InboundWebhookEvent {
  const sender = String(webhook.sender);
  // For a group, `sender` is the group id and `member` the person who wrote.
  if (nonEmpty(webhook.member === null || webhook.member === undefined ? null : String(webhook.member)) !== null) {
    return { kind: 'ignored', reason: 'group message' };
  }
  const fromE164 = inboundIdToE164(sender);
  if (fromE164 === undefined) return { kind: 'ignored', reason: 'sender is not a phone number (group or unknown id)' };
  // Location, poll, button and caption-less attachments arrive with an empty `message`.
  if (webhook.message.trim() === '') return { kind: 'ignored', reason: 'message without text (attachment, location, poll or button)' };

  return {
    kind: 'message',
    providerMessageId: fonnteMessageId(webhook, sender),
    fromE164,
    text: webhook.message,
    senderName: nonEmpty(webhook.name),
    receivedAt: unixSecondsToDate(webhook.timestamp),
  };
}

/**
 * Fonnte sends `inboxid` only when the device has the inbox feature; otherwise an inbound message
 * has no id at all. The inbound store deduplicates redelivered webhooks on providerMessageId, so
 * without an id we derive a stable one from what a redelivery repeats byte for byte: device,
 * sender, timestamp and the text. Redelivery gives the same id; a new message gets a new
 * timestamp. Known limit: if Fonnte omits `timestamp`, the same text sent twice by one customer
 * collapses into one message (acceptable: better than storing every retry as a new message).
 */
function fonnteMessageId(webhook: z.infer<typeof ZFonnteMessage>, sender: string): string {
  const inboxId = webhook.inboxid === null || webhook.inboxid === undefined ? null : nonEmpty(String(webhook.inboxid));
  if (inboxId !== null) return inboxId;
  const material = JSON.stringify([String(webhook.device ?? ''), sender, String(webhook.timestamp ?? ''), webhook.message]);
  return `fonnte-synthetic:${createHash('sha256').update(material, 'utf8').digest('hex').slice(0, 40)}`;
}

function statusEvent(webhook: z.infer<typeof ZFonnteMessageStatus>): InboundWebhookEvent {
  const externalId = webhook.id === null || webhook.id === undefined ? null : nonEmpty(String(webhook.id));
  // Only `id` is the id the send call returned (`id: ["80367170"]`); a `stateid`-only update
  // cannot be matched to our outbound row.
  if (externalId === null) return { kind: 'ignored', reason: 'status update without message id' };
  const status = nonEmpty(webhook.status)?.trim().toLowerCase() ?? null;
  const state = nonEmpty(webhook.state)?.trim().toLowerCase() ?? null;
  const base = { kind: 'status' as const, externalId, at: null };

  // The delivery state is the newer news; a message that was read has long been "sent".
  if (state === 'read' || state === 'delivered') return { ...base, status: state, errorCode: null, errorReason: null };
  if (status === 'sent') return { ...base, status: 'sent', errorCode: null, errorReason: null };
  if (status !== null && FONNTE_FAILED.has(status)) {
    return { ...base, status: 'failed', errorCode: status, errorReason: status === 'invalid' ? 'the target number is not on WhatsApp' : null };
  }
  if (status !== null && FONNTE_IN_PROGRESS.has(status)) return { kind: 'ignored', reason: `message status ${status}: not yet sent` };
  return { kind: 'ignored', reason: `message status ${safeWord(status ?? state) ?? 'unknown'} is not handled` };
}

/** Provider words only make it into a reason if they look like a status word, never like a token. */
function safeWord(value: string | null | undefined): string | null {
  return value !== null && value !== undefined && /^[a-z][a-z _-]{0,31}$/i.test(value) ? value : null;
}
