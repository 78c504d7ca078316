import type { DealScope } from '../deals/deals.store.ts';
import { decodeCursor, toPage } from '../http/pagination.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TDraft, TListDraftsQuery } from './drafts.schemas.ts';
import { selectDrafts, toDraft } from './drafts.store.ts';

export interface ListDraftsOptions {
  tx: TenantTx;
  query: TListDraftsQuery;
  scope: DealScope;
}

/** Drafts newest first, optionally by status; a sales_rep sees only drafts of deals they own. */
export async function listDrafts(options: ListDraftsOptions): Promise<{ data: TDraft[]; next_cursor: string | null }> {
  const { query } = options;
  const rows = await selectDrafts(options.tx, { status: query.status, afterId: decodeCursor(query.cursor), limit: query.limit + 1 }, options.scope);
  return toPage(rows.map(toDraft), query.limit);
}
