import { deals } from '../db/schema.ts';
import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TCreateDealRequest, TDeal } from './deals.schemas.ts';
import { insertActivity, toDeal, type DealScope } from './deals.store.ts';

export interface CreateDealOptions {
  tx: TenantTx;
  input: TCreateDealRequest;
  actor: string;
  scope: DealScope;
  correlationId?: string;
}

/**
 * Opens a deal at `new_lead` and writes `deal_created` on its timeline in the same
 * transaction. A caller limited to their own deals owns what they create.
 */
export async function createDeal({ tx, input, actor, scope, correlationId }: CreateDealOptions): Promise<TDeal> {
  if (scope.ownerUserId && input.owner_user_id && input.owner_user_id !== scope.ownerUserId) {
    throw new AppError('forbidden', 'You may only create deals that you own');
  }
  const [row] = await tx
    .insert(deals)
    .values({
      contactId: input.contact_id,
      title: input.title,
      valueHalalas: input.value_halalas,
      ownerUserId: input.owner_user_id ?? scope.ownerUserId ?? null,
      expectedCloseDate: input.expected_close_date ?? null,
    })
    .returning();
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  await insertActivity(tx, {
    dealId: row.id,
    type: 'deal_created',
    actor,
    data: { stage: row.stage, value_halalas: row.valueHalalas, title: row.title },
    correlationId,
  });
  return toDeal(row);
}
