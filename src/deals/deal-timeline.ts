import { desc, eq, sql } from 'drizzle-orm';
import { activities, decisions, flowRuns, inboundMessages, outboundMessages } from '../db/schema.ts';
import { AppError } from '../server/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TTimelineItem } from './deals.schemas.ts';
import { findDeal, type DealScope } from './deals.store.ts';

/**
 * The deal's timeline: activities, inbound and outbound messages and gateway decisions,
 * merged oldest first; the newest `limit` entries.
 *
 * - inbound messages by `deal_id`, at `received_at` (when the customer sent it);
 * - outbound messages by `deal_id`, at `created_at` (when queued; `sent_at` is in the item);
 * - decisions through their flow run: `decisions.flow_run_id → flow_runs` whose
 *   `input.payload.deal_id` is the deal (the gateway records the action's payload there). A
 *   decision that started no flow run (requires_approval, forbidden…) names no deal, so it is
 *   not on the timeline; the draft it led to is. The lookup joins from flow_runs filtered on
 *   the JSON path, within the tenant (RLS) and newest first with a limit.
 *
 * Entries at the same instant (one transaction shares `now()`) keep their write order: ids are
 * UUIDv7, so ordering by (at, id) puts the message before the stage change it caused, and the
 * stage change before the decision on the reply.
 */
export async function getDealTimeline({ tx, dealId, scope, limit }: { tx: TenantTx; dealId: string; scope: DealScope; limit: number }): Promise<{ data: TTimelineItem[] }> {
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
  const decisionRows = await tx
    .select({ decision: decisions })
    .from(decisions)
    .innerJoin(flowRuns, eq(flowRuns.id, decisions.flowRunId))
    .where(sql`${flowRuns.input} -> 'payload' ->> 'deal_id' = ${dealId}`)
    .orderBy(desc(decisions.createdAt), desc(decisions.id))
    .limit(limit);

  const items: TTimelineItem[] = [
    ...activityRows.map((row): TTimelineItem => ({
      kind: 'activity',
      at: row.createdAt.toISOString(),
      id: row.id,
      type: row.type,
      actor: row.actor,
      data: row.data as Record<string, unknown>,
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
    ...decisionRows.map(({ decision: row }): TTimelineItem => ({
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
