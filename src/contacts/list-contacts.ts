import { AppError } from '../http/app-error.ts';
import { decodeCursor, toPage } from '../http/pagination.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TContact, TListContactsQuery } from './contacts.schemas.ts';
import { selectContacts, toContact } from './contacts.store.ts';
import { toE164 } from './phone.ts';

export interface ListContactsOptions {
  tx: TenantTx;
  query: TListContactsQuery;
}

export async function listContacts({ tx, query }: ListContactsOptions): Promise<{ data: TContact[]; next_cursor: string | null }> {
  const phoneE164 = query.phone === undefined ? undefined : toE164(query.phone);
  if (query.phone !== undefined && !phoneE164) {
    throw new AppError('validation_failed', 'Invalid query.phone', { errors: [{ field: 'query.phone', message: 'is not a valid phone number' }] });
  }
  const rows = await selectContacts(tx, {
    ownerUserId: query.owner_user_id,
    phoneE164,
    afterId: decodeCursor(query.cursor),
    limit: query.limit + 1,
  });
  return toPage(rows.map(toContact), query.limit);
}
