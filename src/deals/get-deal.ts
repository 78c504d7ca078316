import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TDeal } from './deals.schemas.ts';
import { findDeal, toDeal, type DealScope } from './deals.store.ts';

export interface GetDealOptions {
  tx: TenantTx;
  dealId: string;
  scope: DealScope;
}

export async function getDeal({ tx, dealId, scope }: GetDealOptions): Promise<TDeal> {
  const row = await findDeal(tx, dealId, scope);
  if (!row) throw new AppError('not_found', `Deal ${dealId} does not exist`);
  return toDeal(row);
}
