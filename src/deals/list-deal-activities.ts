import { AppError } from '../http/app-error.ts';
import { decodeCursor, toPage } from '../http/pagination.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TActivity } from './deals.schemas.ts';
import { findDeal, selectActivities, toActivity, type DealScope } from './deals.store.ts';

export interface ListDealActivitiesOptions {
  tx: TenantTx;
  dealId: string;
  scope: DealScope;
  limit: number;
  cursor: string | undefined;
}

/** The deal's timeline, newest first. */
export async function listDealActivities(options: ListDealActivitiesOptions): Promise<{ data: TActivity[]; next_cursor: string | null }> {
  if (!(await findDeal(options.tx, options.dealId, options.scope))) throw new AppError('not_found', `Deal ${options.dealId} does not exist`);
  const rows = await selectActivities(options.tx, options.dealId, decodeCursor(options.cursor), options.limit + 1);
  return toPage(rows.map(toActivity), options.limit);
}
