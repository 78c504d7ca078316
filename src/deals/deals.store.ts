import { and, desc, eq, inArray, lt, type SQL } from 'drizzle-orm';
import { activities, deals } from '../db/schema.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { DealStage } from './deal-stages.ts';
import type { TActivity, TDeal } from './deals.schemas.ts';
import { readJsonColumn, ZJsonObject } from '../db/json-column.ts';

export type DealRow = typeof deals.$inferSelect;
export type ActivityRow = typeof activities.$inferSelect;

/** Limits a query to one owner's deals (a sales_rep sees only their own). */
export interface DealScope {
  ownerUserId?: string;
}

export function formatSar(halalas: number): string {
  return `${Math.trunc(halalas / 100)}.${String(halalas % 100).padStart(2, '0')}`;
}

export function toDeal(row: DealRow): TDeal {
  return {
    id: row.id,
    contact_id: row.contactId,
    title: row.title,
    stage: row.stage as DealStage,
    value_halalas: row.valueHalalas,
    value_sar: formatSar(row.valueHalalas),
    currency: 'SAR',
    owner_user_id: row.ownerUserId,
    expected_close_date: row.expectedCloseDate,
    stage_changed_at: row.stageChangedAt.toISOString(),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function toActivity(row: ActivityRow): TActivity {
  return {
    id: row.id,
    deal_id: row.dealId,
    type: row.type,
    actor: row.actor,
    data: readJsonColumn(ZJsonObject, row.data, 'activities.data'),
    correlation_id: row.correlationId,
    created_at: row.createdAt.toISOString(),
  };
}

export function scopeCondition(scope: DealScope): SQL | undefined {
  return scope.ownerUserId === undefined ? undefined : eq(deals.ownerUserId, scope.ownerUserId);
}

export async function findDeal(tx: TenantTx, id: string, scope: DealScope, options: { forUpdate?: boolean } = {}): Promise<DealRow | undefined> {
  const query = tx.select().from(deals).where(and(eq(deals.id, id), scopeCondition(scope)));
  const [row] = options.forUpdate ? await query.for('update') : await query;
  return row;
}

export async function selectDeals(
  tx: TenantTx,
  filter: { stages?: DealStage[] | undefined; ownerUserId?: string | undefined; contactId?: string | undefined; afterId?: string | undefined; limit: number },
  scope: DealScope,
): Promise<DealRow[]> {
  const conditions: (SQL | undefined)[] = [scopeCondition(scope)];
  if (filter.stages?.length) conditions.push(filter.stages.length === 1 ? eq(deals.stage, filter.stages[0] as string) : inArray(deals.stage, filter.stages));
  if (filter.ownerUserId) conditions.push(eq(deals.ownerUserId, filter.ownerUserId));
  if (filter.contactId) conditions.push(eq(deals.contactId, filter.contactId));
  if (filter.afterId) conditions.push(lt(deals.id, filter.afterId));
  return tx
    .select()
    .from(deals)
    .where(and(...conditions))
    .orderBy(desc(deals.id))
    .limit(filter.limit);
}

export interface NewActivity {
  dealId: string;
  type: 'deal_created' | 'deal_updated' | 'stage_changed' | 'internal_status_update' | 'tagged' | 'untagged' | 'summarized';
  actor: string;
  data: Record<string, unknown>;
  correlationId: string | undefined;
}

/** Timeline entries are written in the same transaction as the change they describe. */
export async function insertActivity(tx: TenantTx, activity: NewActivity): Promise<ActivityRow> {
  const [row] = await tx
    .insert(activities)
    .values({ dealId: activity.dealId, type: activity.type, actor: activity.actor, data: activity.data, correlationId: activity.correlationId ?? null })
    .returning();
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row;
}

export async function selectActivities(tx: TenantTx, dealId: string, afterId: string | undefined, limit: number): Promise<ActivityRow[]> {
  return tx
    .select()
    .from(activities)
    .where(and(eq(activities.dealId, dealId), afterId ? lt(activities.id, afterId) : undefined))
    .orderBy(desc(activities.id))
    .limit(limit);
}
