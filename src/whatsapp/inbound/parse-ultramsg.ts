import { z } from 'zod';
import { inboundIdToE164 } from './inbound-phone.ts';
import { nonEmpty, parseBody, unixSecondsToDate, ZStringOrNumber, type InboundStatusValue, type InboundWebhookEvent, storableEvents, type ParseResult } from './webhook-events.ts';

/**
 * Ultramsg webhooks (whatsapp-providers.md §2). Source: github:ultramsg/whatsapp-webhook-csharp
 * README (envelope and `data` fields), the SDK README (webhook switches and ack values).
 */

const ZUltramsgEnvelope = z.object({
  event_type: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
});

/** `fromMe` is a JSON boolean in the documented payload; accept "true"/"false" too in case a form-encoded delivery flattens it (UNCONFIRMED). */
const ZFlag = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]);

const ZUltramsgMessageData = z.object({
  id: z.string().min(1),
  from: z.string().min(1),
  author: z.string().optional(),
  pushname: z.string().optional(),
  type: z.string().min(1),
  body: z.string(),
  fromMe: ZFlag.optional(),
  time: ZStringOrNumber.optional(),
});

/** UNCONFIRMED payload: whatsapp-providers.md presumes `data.id` and `data.ack`. */
const ZUltramsgAckData = z.object({
  id: z.string().min(1),
  ack: ZStringOrNumber,
  time: ZStringOrNumber.optional(),
});

/**
 * Ack values from the Ultramsg SDK's message filter: pending, server, device, read, played.
 * `pending` (not yet on WhatsApp's server) is no news for us → ignored. The numeric forms are
 * whatsapp-web.js's ACK codes (-1 error … 4 played), which Ultramsg appears to be built on;
 * UNCONFIRMED, accepted because it costs nothing and a numeric ack would otherwise be a 400.
 */
const ACK_STATUS: Readonly<Record<string, InboundStatusValue | null>> = {
  pending: null,
  server: 'sent',
  device: 'delivered',
  read: 'read',
  played: 'read',
  error: 'failed',
  '-1': 'failed',
  '0': null,
  '1': 'sent',
  '2': 'delivered',
  '3': 'read',
  '4': 'read',
};

/**
 * Parses one Ultramsg webhook body into normalised events.
 *
 * - `message_received` with `data.type` `chat` → `message`; `fromMe` (echo), groups and other
 *   types (image, location, ptt…) → `ignored`.
 * - `message_create` (messages we send) → `ignored`.
 * - `message_ack` → `status` (server → sent, device → delivered, read/played → read; pending → ignored).
 * - Other event types → `ignored`.
 *
 * UNCONFIRMED form-encoded variant: when `body.data` is a string it is JSON-decoded first (a
 * malformed string is `ok: false` on `data`), so the route can pass the parsed form as is.
 *
 * @example
 * parseUltramsgWebhook({ event_type: 'message_create', data: { fromMe: true } })
 * // { ok: true, events: [{ kind: 'ignored', reason: 'echo of our own send (message_create)' }] }
 */
export function parseUltramsgWebhook(body: unknown): ParseResult {
  return storableEvents(parseEvents(body));
}

function parseEvents(body: unknown): ParseResult {
  const decoded = decodeFormEncodedData(body);
  if (!decoded.ok) return decoded;
  const envelope = parseBody(ZUltramsgEnvelope, decoded.body);
  if (!envelope.ok) return envelope;
  const { event_type: eventType, data } = envelope.data;

  if (eventType === 'message_received') {
    const parsed = parseBody(ZUltramsgMessageData, data);
    return parsed.ok ? { ok: true, events: [messageEvent(parsed.data)] } : prefixFields(parsed.errors);
  }
  if (eventType === 'message_ack') {
    const parsed = parseBody(ZUltramsgAckData, data);
    return parsed.ok ? { ok: true, events: [ackEvent(parsed.data)] } : prefixFields(parsed.errors);
  }
  if (eventType === 'message_create') {
    return { ok: true, events: [{ kind: 'ignored', reason: 'echo of our own send (message_create)' }] };
  }
  return { ok: true, events: [{ kind: 'ignored', reason: `event_type ${eventType} is not handled` }] };
}

type DecodeResult = { ok: true; body: unknown } | { ok: false; errors: { field: string; message: string }[] };

function decodeFormEncodedData(body: unknown): DecodeResult {
  if (typeof body !== 'object' || body === null || !('data' in body) || typeof body.data !== 'string') return { ok: true, body };
  try {
    return { ok: true, body: { ...body, data: JSON.parse(body.data) as unknown } };
  } catch {
    return { ok: false, errors: [{ field: 'data', message: 'is a string but not valid JSON' }] };
  }
}

/** The data schemas run on `data`, so their paths need the `data.` prefix to name the body field. */
function prefixFields(errors: { field: string; message: string }[]): ParseResult {
  return { ok: false, errors: errors.map((error) => ({ ...error, field: error.field === 'body' ? 'data' : `data.${error.field}` })) };
}

function messageEvent(data: z.infer<typeof ZUltramsgMessageData>): InboundWebhookEvent {
  if (data.fromMe === true) return { kind: 'ignored', reason: 'echo of our own send (fromMe)' };
  // In a group, `from` is the group (…@g.us) and `author` the member who wrote.
  if (data.from.toLowerCase().endsWith('@g.us') || nonEmpty(data.author) !== null) return { kind: 'ignored', reason: 'group message' };
  if (data.type !== 'chat') return { kind: 'ignored', reason: `non-text message type ${data.type}` };
  const fromE164 = inboundIdToE164(data.from);
  if (fromE164 === undefined) return { kind: 'ignored', reason: 'sender is not a phone number' };
  return {
    kind: 'message',
    providerMessageId: data.id,
    fromE164,
    text: data.body,
    senderName: nonEmpty(data.pushname),
    receivedAt: unixSecondsToDate(data.time),
  };
}

function ackEvent(data: z.infer<typeof ZUltramsgAckData>): InboundWebhookEvent {
  const ack = String(data.ack).trim().toLowerCase();
  if (!Object.hasOwn(ACK_STATUS, ack)) return { kind: 'ignored', reason: `message_ack ${ack} is not handled` };
  const status = ACK_STATUS[ack];
  if (status === null || status === undefined) return { kind: 'ignored', reason: `message_ack ${ack}: not yet sent` };
  return {
    kind: 'status',
    externalId: data.id,
    status,
    errorCode: status === 'failed' ? `ack_${ack}` : null,
    errorReason: null,
    at: unixSecondsToDate(data.time),
  };
}
