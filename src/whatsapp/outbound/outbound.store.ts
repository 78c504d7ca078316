import { and, eq, sql } from 'drizzle-orm';
import { deals, drafts, outboundMessages } from '../../db/schema.ts';
import type { TenantTx } from '../../tenancy/with-tenant.ts';

export type OutboundMessageRow = typeof outboundMessages.$inferSelect;

/** The cancel reason of messages stopped by an opt-out. */
export const OPTED_OUT_REASON = 'opted_out';

/**
 * True when the contact has opted out: any of its deals is in stage opted_out. Nothing may
 * be sent to such a contact again (SPEC §3, PDPL Art. 25), queued or approved or not.
 */
export async function contactHasOptedOut(tx: TenantTx, contactId: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: deals.id })
    .from(deals)
    .where(and(eq(deals.contactId, contactId), eq(deals.stage, 'opted_out')))
    .limit(1);
  return row !== undefined;
}

/**
 * Cancels every queued outbound message of a contact, in the caller's transaction: opt-out
 * calls it in the same transaction as the stage change, so no queued message survives it.
 * Returns the ids cancelled.
 *
 * @example
 * await cancelQueuedOutbound({ tx, contactId, reason: 'opted_out' });
 */
export async function cancelQueuedOutbound(options: { tx: TenantTx; contactId: string; reason: string }): Promise<string[]> {
  const { tx, contactId, reason } = options;
  // The contact row lock orders this against a send's claim (which takes it FOR UPDATE) and its
  // last check before each provider call (FOR SHARE): after this commits, no queued message of
  // the contact can still go out, and a claimed (`sending`) one calls no further provider.
  await tx.execute(sql`SELECT 1 FROM contacts WHERE id = ${contactId} FOR UPDATE`);
  const cancelled = await tx
    .update(outboundMessages)
    .set({ status: 'cancelled', cancelledAt: sql`now()`, cancelReason: reason })
    .where(and(eq(outboundMessages.contactId, contactId), eq(outboundMessages.status, 'queued')))
    .returning({ id: outboundMessages.id });
  return cancelled.map((row) => row.id);
}

/**
 * The contact's messages a send step has claimed and may already have handed to a provider
 * (status `sending`): an opt-out cannot take them back, so it reports them. Call it after
 * `cancelQueuedOutbound`, which takes the contact row lock that orders it against the sends.
 */
export async function inFlightOutbound(tx: TenantTx, contactId: string): Promise<string[]> {
  const rows = await tx
    .select({ id: outboundMessages.id })
    .from(outboundMessages)
    .where(and(eq(outboundMessages.contactId, contactId), eq(outboundMessages.status, 'sending')));
  return rows.map((row) => row.id);
}

/**
 * A closed 24-hour window turns the message into a draft saying why (issue 5): a human sends an
 * approved template, or waits for the customer to write again (which reopens the window).
 */
export async function draftForClosedWindow(
  tx: TenantTx,
  outbound: Pick<OutboundMessageRow, 'contactId' | 'dealId' | 'body' | 'templateId' | 'language'>,
  code: string,
  reason: string,
): Promise<string | undefined> {
  const [draft] = await tx
    .insert(drafts)
    .values({
      contactId: outbound.contactId,
      dealId: outbound.dealId,
      text: outbound.body,
      templateId: outbound.templateId,
      language: outbound.language,
      reason:
        `WhatsApp's 24-hour window is closed (${code}): the customer last wrote more than 24 hours ago, so Meta delivers only approved templates ` +
        `(${reason}). Send an approved template, or wait until the customer writes again.`,
    })
    .returning({ id: drafts.id });
  return draft?.id;
}

