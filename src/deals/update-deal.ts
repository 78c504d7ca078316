import { and, eq, sql } from 'drizzle-orm';
import { deals } from '../db/schema.ts';
import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TDeal, TUpdateDealRequest } from './deals.schemas.ts';
import { findDeal, insertActivity, scopeCondition, toDeal, type DealScope } from './deals.store.ts';

export interface UpdateDealOptions {
  tx: TenantTx;
  dealId: string;
  input: TUpdateDealRequest;
  actor: string;
  scope: DealScope;
  correlationId?: string;
}

/** Edits a deal's details (never its stage) and records what changed on its timeline. */
export async function updateDeal({ tx, dealId, input, actor, scope, correlationId }: UpdateDealOptions): Promise<TDeal> {
  if (scope.ownerUserId && input.owner_user_id !== undefined && input.owner_user_id !== scope.ownerUserId) {
    throw new AppError('forbidden', 'You may not hand a deal to someone else');
  }
  const before = await findDeal(tx, dealId, scope, { forUpdate: true });
  if (!before) throw new AppError('not_found', `Deal ${dealId} does not exist`);
  const [row] = await tx
    .update(deals)
    .set({
      ...(input.title !== undefined ? { title: input.title } : {}),
      ...(input.value_halalas !== undefined ? { valueHalalas: input.value_halalas } : {}),
      ...(input.owner_user_id !== undefined ? { ownerUserId: input.owner_user_id } : {}),
      ...(input.expected_close_date !== undefined ? { expectedCloseDate: input.expected_close_date } : {}),
      updatedAt: sql`now()`,
    })
    .where(and(eq(deals.id, dealId), scopeCondition(scope)))
    .returning();
  if (!row) throw new AppError('not_found', `Deal ${dealId} does not exist`);
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  const pairs: Array<[string, unknown, unknown]> = [
    ['title', before.title, row.title],
    ['value_halalas', before.valueHalalas, row.valueHalalas],
    ['owner_user_id', before.ownerUserId, row.ownerUserId],
    ['expected_close_date', before.expectedCloseDate, row.expectedCloseDate],
  ];
  for (const [field, from, to] of pairs) if (from !== to) changes[field] = { from, to };
  if (Object.keys(changes).length > 0) {
    await insertActivity(tx, { dealId, type: 'deal_updated', actor, data: { changes }, correlationId });
  }
  return toDeal(row);
}
