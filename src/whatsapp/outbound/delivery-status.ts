import { and, eq, isNull, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import { outboundMessages, whatsappWebhookEvents } from '../../db/schema.ts';
import type { TenantTx } from '../../tenancy/with-tenant.ts';
import { draftForClosedWindow } from './outbound.store.ts';

/**
 * The delivery-status state machine of our outbound messages: a provider's status reports
 * (from its webhooks, src/whatsapp/inbound) move `outbound_messages.delivery_status` forward;
 * the send step (./send-whatsapp.plugin.ts) applies the reports that arrived before it recorded
 * the provider's message id. Both sides take the same lock, so neither misses the other.
 */

/** The delivery states we track for our own outbound messages. */
export const DELIVERY_STATUS_VALUES = ['sent', 'delivered', 'read', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUS_VALUES)[number];

/** One status report from a provider about one of our messages. */
export interface DeliveryStatusUpdate {
  /** The provider's id of our outbound message (what its send call returned). */
  externalId: string;
  status: DeliveryStatus;
  /** The provider's own code (Meta `131047`, Green API `noAccount`, Fonnte `invalid`). */
  errorCode: string | null;
  /** For people; never holds a credential. */
  errorReason: string | null;
  at: Date | null;
}

/** A report as `whatsapp_webhook_events.event` holds it (JSON: the time is a string). */
const ZStoredStatusUpdate = z.object({
  externalId: z.string().min(1),
  status: z.enum(DELIVERY_STATUS_VALUES),
  errorCode: z.string().nullable(),
  errorReason: z.string().nullable(),
  at: z.string().nullable(),
});

/** Meta's "re-engagement message": free text outside the 24-hour customer-service window. */
const CLOSED_WINDOW_CODE = '131047';

/** sent < delivered < read; `failed` is terminal. */
const RANK = { sent: 1, delivered: 2, read: 3 } as const;

/**
 * Moves our outbound message's delivery state forward, never back: providers deliver status
 * webhooks out of order (a `delivered` arriving after `read`) and Meta may skip `delivered`
 * altogether, so each update only raises the rank and fills timestamps that are still empty.
 * A status for a message we do not know (sent by someone else on the same number) changes nothing.
 */
export async function applyStatus(tx: TenantTx, provider: string, event: DeliveryStatusUpdate): Promise<boolean> {
  const at = event.at ?? new Date();
  const sameMessage = and(eq(outboundMessages.provider, provider), eq(outboundMessages.externalId, event.externalId));
  if (event.status === 'failed') {
    const code = event.errorCode ?? 'unknown';
    const reason = event.errorReason ?? 'no reason given';
    // Guarded: only a message we count as sent, and not yet known delivered, can fail; a
    // redelivered failure then matches no row, so the draft below is written once.
    const failed = await tx
      .update(outboundMessages)
      .set({ status: 'failed', deliveryStatus: 'failed', error: `${code}: ${reason}` })
      .where(and(sameMessage, eq(outboundMessages.status, 'sent'), or(isNull(outboundMessages.deliveryStatus), eq(outboundMessages.deliveryStatus, 'sent'))))
      .returning();
    for (const row of failed) if (code === CLOSED_WINDOW_CODE) await draftForClosedWindow(tx, row, code, reason);
    return failed.length > 0 || (await knownMessage(tx, provider, event.externalId));
  }
  const rank = RANK[event.status];
  const current = sql`CASE ${outboundMessages.deliveryStatus} WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE 0 END`;
  await tx
    .update(outboundMessages)
    .set({
      deliveryStatus: sql`CASE WHEN ${current} < ${rank} THEN ${event.status} ELSE ${outboundMessages.deliveryStatus} END`,
      // Read implies delivered: when Meta skips `delivered`, the read time is the best we know.
      ...(rank >= RANK.delivered ? { deliveredAt: sql`COALESCE(${outboundMessages.deliveredAt}, ${at.toISOString()}::timestamptz)` } : {}),
      ...(rank >= RANK.read ? { readAt: sql`COALESCE(${outboundMessages.readAt}, ${at.toISOString()}::timestamptz)` } : {}),
    })
    .where(and(sameMessage, or(isNull(outboundMessages.deliveryStatus), sql`${outboundMessages.deliveryStatus} <> 'failed'`)));
  return knownMessage(tx, provider, event.externalId);
}

async function knownMessage(tx: TenantTx, provider: string, externalId: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: outboundMessages.id })
    .from(outboundMessages)
    .where(and(eq(outboundMessages.provider, provider), eq(outboundMessages.externalId, externalId)))
    .limit(1);
  return row !== undefined;
}

/**
 * Serialises a status webhook and the send that records the same provider message id: whichever
 * commits second sees the other's rows (READ COMMITTED, a fresh snapshot per statement).
 */
export async function lockDeliveryStatus(tx: TenantTx, provider: string, externalId: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`wa-status:${provider}:${externalId}`}, 0))`);
}

/** Applies status webhooks that arrived before the send recorded its provider id, in arrival order. */
export async function applyPendingStatuses(tx: TenantTx, provider: string, externalId: string): Promise<number> {
  const pending = await tx
    .select({ id: whatsappWebhookEvents.id, event: whatsappWebhookEvents.event })
    .from(whatsappWebhookEvents)
    .where(
      and(
        eq(whatsappWebhookEvents.kind, 'status'),
        eq(whatsappWebhookEvents.provider, provider),
        eq(whatsappWebhookEvents.providerMessageId, externalId),
        isNull(whatsappWebhookEvents.processedAt),
      ),
    )
    .orderBy(whatsappWebhookEvents.receivedAt, whatsappWebhookEvents.id);
  for (const row of pending) {
    // Parsed where it is read: the column holds whatever an older version stored.
    const stored = ZStoredStatusUpdate.parse(row.event);
    await applyStatus(tx, provider, { ...stored, at: stored.at ? new Date(stored.at) : null });
    await tx.update(whatsappWebhookEvents).set({ processedAt: new Date() }).where(eq(whatsappWebhookEvents.id, row.id));
  }
  return pending.length;
}
