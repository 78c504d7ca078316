import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { activities, deals, drafts } from '../db/schema.ts';
import type { DealScope } from '../deals/deals.store.ts';
import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TDraft } from './drafts.schemas.ts';

export type DraftRow = typeof drafts.$inferSelect;

export function toDraft(row: DraftRow): TDraft {
  return {
    id: row.id,
    contact_id: row.contactId,
    deal_id: row.dealId,
    text: row.text,
    template_id: row.templateId,
    language: row.language as TDraft['language'],
    reason: row.reason,
    status: row.status as TDraft['status'],
    version: row.version,
    last_edited_by: row.lastEditedBy,
    decided_by: row.decidedBy,
    decided_at: row.decidedAt?.toISOString() ?? null,
    decision_reason: row.decisionReason,
    decision_id: row.decisionId,
    flow_run_id: row.flowRunId,
    approval_request_id: row.approvalRequestId,
    created_at: row.createdAt.toISOString(),
  };
}

/** A caller limited to their own deals sees only drafts of deals they own (never deal-less drafts). */
function scopeCondition(scope: DealScope): SQL | undefined {
  return scope.ownerUserId === undefined ? undefined : eq(deals.ownerUserId, scope.ownerUserId);
}

export async function selectDrafts(
  tx: TenantTx,
  filter: { status?: string | undefined; afterId?: string | undefined; limit: number },
  scope: DealScope,
): Promise<DraftRow[]> {
  const conditions: (SQL | undefined)[] = [scopeCondition(scope)];
  if (filter.status) conditions.push(eq(drafts.status, filter.status));
  if (filter.afterId) conditions.push(lt(drafts.id, filter.afterId));
  const rows = await tx
    .select({ draft: drafts })
    .from(drafts)
    .leftJoin(deals, eq(deals.id, drafts.dealId))
    .where(and(...conditions))
    .orderBy(desc(drafts.id))
    .limit(filter.limit);
  return rows.map((row) => row.draft);
}

/** The draft, locked for the rest of the transaction; 404 when absent or outside the caller's scope. */
export async function lockDraft(tx: TenantTx, id: string, scope: DealScope): Promise<DraftRow> {
  const [visible] = await tx
    .select({ id: drafts.id })
    .from(drafts)
    .leftJoin(deals, eq(deals.id, drafts.dealId))
    .where(and(eq(drafts.id, id), scopeCondition(scope)));
  const [row] = visible ? await tx.select().from(drafts).where(eq(drafts.id, id)).for('update') : [];
  if (!row) throw new AppError('not_found', `Draft ${id} does not exist`);
  return row;
}

export function requirePending(row: DraftRow): void {
  if (row.status !== 'pending') throw new AppError('conflict', `Draft ${row.id} is already ${row.status}`);
}

export async function insertDraftActivity(
  tx: TenantTx,
  row: DraftRow,
  type: 'draft_edited' | 'draft_approved' | 'draft_rejected',
  actor: string,
  data: Record<string, unknown>,
  correlationId: string | undefined,
): Promise<void> {
  if (!row.dealId) return;
  await tx.insert(activities).values({ dealId: row.dealId, type, actor, data: { draft_id: row.id, ...data }, correlationId: correlationId ?? null });
}
