import { decodeCursor, toPage } from '../http/pagination.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TDeal, TListDealsQuery } from './deals.schemas.ts';
import { selectDeals, toDeal, type DealScope } from './deals.store.ts';

export interface ListDealsOptions {
  tx: TenantTx;
  query: TListDealsQuery;
  scope: DealScope;
}

export async function listDeals({ tx, query, scope }: ListDealsOptions): Promise<{ data: TDeal[]; next_cursor: string | null }> {
  const rows = await selectDeals(
    tx,
    { stages: query.stage, ownerUserId: query.owner_user_id, contactId: query.contact_id, afterId: decodeCursor(query.cursor), limit: query.limit + 1 },
    scope,
  );
  return toPage(rows.map(toDeal), query.limit);
}
