import { desc, eq } from 'drizzle-orm';
import { activities, decisions, inboundMessages, outboundMessages } from '../db/schema.ts';
import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TTimelineItem } from './deals.schemas.ts';
import { findDeal, type DealScope } from './deals.store.ts';
import { readJsonColumn, ZJsonObject } from '../db/json-column.ts';

export interface GetDealTimelineOptions {
  tx: TenantTx;
  dealId: string;
  scope: DealScope;
  limit: number;
}

/**
 * The deal's timeline: activities, inbound and outbound messages and gateway decisions,
 * merged oldest first; the newest `limit` entries.
 *
 * - inbound messages by `deal_id`, at `received_at` (when the customer sent it);
 * - outbound messages by `deal_id`, at `created_at` (when queued; `sent_at` is in the item);
 * - gateway decisions by `deal_id` (the deal the action's payload named), whether or not they
 *   started a run: an action asked for approval, refused or forbidden is on the timeline too.
 *
 * Entries at the same instant (one transaction shares `now()`) keep their write order: ids are
 * UUIDv7, so ordering by (at, id) puts the message before the stage change it caused, and the
 * stage change before the decision on the reply.
 */
export async function getDealTimeline({ tx, dealId, scope, limit }: GetDealTimelineOptions): Promise<{ data: TTimelineItem[] }> {
  if (!(await findDeal(tx, dealId, scope))) throw new AppError('not_found', `Deal ${dealId} does not exist`);

  // One connection per transaction: the four reads run one after another.
  const activityRows = await tx.select().from(activities).where(eq(activities.dealId, dealId)).orderBy(desc(activities.createdAt), desc(activities.id)).limit(limit);
  const inboundRows = await tx
    .select()
    .from(inboundMessages)
    .where(eq(inboundMessages.dealId, dealId))
    .orderBy(desc(inboundMessages.receivedAt), desc(inboundMessages.id))
    .limit(limit);
  const outboundRows = await tx
    .select()
    .from(outboundMessages)
    .where(eq(outboundMessages.dealId, dealId))
    .orderBy(desc(outboundMessages.createdAt), desc(outboundMessages.id))
    .limit(limit);
  const decisionRows = await dealDecisionsQuery(tx, dealId, limit);

  const items: TTimelineItem[] = [
    ...activityRows.map((row): TTimelineItem => ({
      kind: 'activity',
      at: row.createdAt.toISOString(),
      id: row.id,
      type: row.type,
      actor: row.actor,
      data: readJsonColumn(ZJsonObject, row.data, 'activities.data'),
      correlation_id: row.correlationId,
    })),
    ...inboundRows.map((row): TTimelineItem => ({
      kind: 'inbound_message',
      at: row.receivedAt.toISOString(),
      id: row.id,
      contact_id: row.contactId,
      channel: row.channel,
      text: row.text,
      intent: row.intent,
      confidence: row.confidence,
      language: row.language,
      correlation_id: row.correlationId,
    })),
    ...outboundRows.map((row): TTimelineItem => ({
      kind: 'outbound_message',
      at: row.createdAt.toISOString(),
      id: row.id,
      contact_id: row.contactId,
      channel: row.channel,
      body: row.body,
      template_id: row.templateId,
      language: row.language,
      status: row.status,
      sent_at: row.sentAt?.toISOString() ?? null,
      flow_run_id: row.flowRunId,
    })),
    ...decisionRows.map((row): TTimelineItem => ({
      kind: 'decision',
      at: row.createdAt.toISOString(),
      id: row.id,
      action: row.action,
      result: row.result,
      reason: row.reason,
      policy_class: row.policyClass,
      actor: row.actor,
      flow_run_id: row.flowRunId,
      correlation_id: row.correlationId,
    })),
  ];
  // ISO strings of UTC instants sort as text; UUIDv7 ids break ties in write order.
  items.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { data: items.slice(-limit) };
}

/**
 * The deal's newest decisions, by their `deal_id` column: one range of decisions__tenant_deal_idx
 * read backwards (exported so a test can EXPLAIN exactly this query).
 */
export function dealDecisionsQuery(tx: TenantTx, dealId: string, limit: number) {
  return tx.select().from(decisions).where(eq(decisions.dealId, dealId)).orderBy(desc(decisions.createdAt), desc(decisions.id)).limit(limit);
}
