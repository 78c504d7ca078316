import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TContact } from './contacts.schemas.ts';
import { findContact, toContact } from './contacts.store.ts';

export async function getContact({ tx, contactId }: { tx: TenantTx; contactId: string }): Promise<TContact> {
  const row = await findContact(tx, contactId);
  if (!row) throw new AppError('not_found', `Contact ${contactId} does not exist`);
  return toContact(row);
}
