import { z } from 'zod';
import { inboundIdToE164 } from './inbound-phone.ts';
import { nonEmpty, parseBody, unixSecondsToDate, type InboundWebhookEvent, storableEvents, type ParseResult } from './webhook-events.ts';

/**
 * Green API webhooks (whatsapp-providers.md §1). Sources: green-api.com docs pages
 * Webhook-IncomingMessageReceived, TextMessage, OutgoingMessageStatus.
 */

/** Every Green API webhook has `typeWebhook`; the rest depends on it. Unknown keys are dropped. */
const ZGreenApiEnvelope = z.object({ typeWebhook: z.string().min(1) });

const ZGreenApiIncomingMessage = z.object({
  typeWebhook: z.literal('incomingMessageReceived'),
  timestamp: z.number(),
  idMessage: z.string().min(1),
  senderData: z.object({
    chatId: z.string().min(1),
    sender: z.string().min(1),
    senderName: z.string().optional(),
    senderContactName: z.string().optional(),
  }),
  messageData: z
    .object({
      typeMessage: z.string().min(1),
      textMessageData: z.object({ textMessage: z.string() }).optional(),
      extendedTextMessageData: z.object({ text: z.string() }).optional(),
    })
    .superRefine((data, ctx) => {
      // The text is required exactly for the text types; other types carry other *Data objects.
      if (data.typeMessage === 'textMessage' && data.textMessageData === undefined) {
        ctx.addIssue({ code: 'custom', path: ['textMessageData', 'textMessage'], message: 'is required for typeMessage textMessage' });
      }
      if (EXTENDED_TEXT_TYPES.has(data.typeMessage) && data.extendedTextMessageData === undefined) {
        ctx.addIssue({ code: 'custom', path: ['extendedTextMessageData', 'text'], message: `is required for typeMessage ${data.typeMessage}` });
      }
    }),
});

const ZGreenApiOutgoingStatus = z.object({
  typeWebhook: z.literal('outgoingMessageStatus'),
  timestamp: z.number(),
  idMessage: z.string().min(1),
  status: z.string().min(1),
});

/** extendedTextMessage: text with a link, preview or forward; quotedMessage: a reply. Both put the text in extendedTextMessageData.text. */
const EXTENDED_TEXT_TYPES: ReadonlySet<string> = new Set(['extendedTextMessage', 'quotedMessage']);

/** Echoes of messages we (API) or the phone's owner (app) sent; same shape as incoming, never a customer message. */
const ECHO_TYPES: ReadonlySet<string> = new Set(['outgoingMessageReceived', 'outgoingAPIMessageReceived']);

/**
 * Green API statuses that mean the message will never arrive. The code is kept so the product can
 * tell "not on WhatsApp" (noAccount: no fallback helps) from a generic failure. `yellowCard`
 * (sending suspended for suspicious activity) is UNCONFIRMED: not in whatsapp-providers.md, but
 * seen in Green API's status list; a failure either way.
 */
const FAILURE_STATUSES: ReadonlySet<string> = new Set(['failed', 'noAccount', 'notInGroup', 'yellowCard']);

/** `{{SWE001}}`/`{{SWE003}}`: WhatsApp could not decrypt the message (Green API common-errors page). */
const DECRYPTION_FAILURE_MARKER = /\{\{SWE00[13]\}\}/;

/**
 * Parses one Green API webhook body (already JSON-decoded) into normalised events.
 *
 * - `incomingMessageReceived` with `textMessage` / `extendedTextMessage` / `quotedMessage` → `message`;
 *   other message types and group chats (`@g.us`) → `ignored`.
 * - `outgoingMessageReceived` / `outgoingAPIMessageReceived` → `ignored` (echo of a send).
 * - `outgoingMessageStatus` → `status` (`noAccount`, `notInGroup`… → `failed` with that code).
 * - Any other `typeWebhook` (stateInstanceChanged, incomingCall, deviceInfo…) → `ignored`.
 *
 * @example
 * parseGreenApiWebhook({ typeWebhook: 'stateInstanceChanged', stateInstance: 'authorized' })
 * // { ok: true, events: [{ kind: 'ignored', reason: 'typeWebhook stateInstanceChanged is not handled' }] }
 */
export function parseGreenApiWebhook(body: unknown): ParseResult {
  return storableEvents(parseEvents(body));
}

function parseEvents(body: unknown): ParseResult {
  const envelope = parseBody(ZGreenApiEnvelope, body);
  if (!envelope.ok) return envelope;
  const { typeWebhook } = envelope.data;

  if (typeWebhook === 'incomingMessageReceived') {
    const parsed = parseBody(ZGreenApiIncomingMessage, body);
    return parsed.ok ? { ok: true, events: [incomingMessageEvent(parsed.data)] } : parsed;
  }
  if (typeWebhook === 'outgoingMessageStatus') {
    const parsed = parseBody(ZGreenApiOutgoingStatus, body);
    return parsed.ok ? { ok: true, events: [statusEvent(parsed.data)] } : parsed;
  }
  if (ECHO_TYPES.has(typeWebhook)) {
    return { ok: true, events: [{ kind: 'ignored', reason: `echo of our own send (${typeWebhook})` }] };
  }
  return { ok: true, events: [{ kind: 'ignored', reason: `typeWebhook ${typeWebhook} is not handled` }] };
}

function incomingMessageEvent(webhook: z.infer<typeof ZGreenApiIncomingMessage>): InboundWebhookEvent {
  const { senderData, messageData } = webhook;
  if (senderData.chatId.toLowerCase().endsWith('@g.us')) return { kind: 'ignored', reason: 'group message' };

  let text: string;
  if (messageData.typeMessage === 'textMessage' && messageData.textMessageData) {
    text = messageData.textMessageData.textMessage;
  } else if (EXTENDED_TEXT_TYPES.has(messageData.typeMessage) && messageData.extendedTextMessageData) {
    text = messageData.extendedTextMessageData.text;
  } else {
    return { kind: 'ignored', reason: `non-text message type ${messageData.typeMessage}` };
  }

  const fromE164 = inboundIdToE164(senderData.sender);
  if (fromE164 === undefined) return { kind: 'ignored', reason: 'sender is not a phone number' };

  return {
    kind: 'message',
    providerMessageId: webhook.idMessage,
    fromE164,
    text,
    // senderName is the customer's WhatsApp profile name; senderContactName is the name in the
    // business phone's address book, a fallback only. Both arrive as "" when unknown.
    senderName: nonEmpty(senderData.senderName) ?? nonEmpty(senderData.senderContactName),
    receivedAt: unixSecondsToDate(webhook.timestamp),
    ...(DECRYPTION_FAILURE_MARKER.test(text) ? { decryptionFailed: true as const } : {}),
  };
}

function statusEvent(webhook: z.infer<typeof ZGreenApiOutgoingStatus>): InboundWebhookEvent {
  const at = unixSecondsToDate(webhook.timestamp);
  const base = { kind: 'status' as const, externalId: webhook.idMessage, at };
  switch (webhook.status) {
    case 'sent':
    case 'delivered':
    case 'read':
      return { ...base, status: webhook.status, errorCode: null, errorReason: null };
    default:
      if (FAILURE_STATUSES.has(webhook.status)) {
        return { ...base, status: 'failed', errorCode: webhook.status, errorReason: FAILURE_REASONS[webhook.status] ?? null };
      }
      // An unknown status is not treated as a failure: a false "failed" could trigger a fallback
      // send through another provider and reach the customer twice.
      return { kind: 'ignored', reason: `outgoingMessageStatus ${webhook.status} is not handled` };
  }
}

const FAILURE_REASONS: Readonly<Record<string, string>> = {
  noAccount: 'the recipient has no WhatsApp account',
  notInGroup: 'the instance is not a member of the group',
  yellowCard: 'sending is suspended for suspicious activity',
};
