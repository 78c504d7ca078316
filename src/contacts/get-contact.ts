import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TContact } from './contacts.schemas.ts';
import { findContact, toContact } from './contacts.store.ts';

export interface GetContactOptions {
  tx: TenantTx;
  contactId: string;
}

export async function getContact({ tx, contactId }: GetContactOptions): Promise<TContact> {
  const row = await findContact(tx, contactId);
  if (!row) throw new AppError('not_found', `Contact ${contactId} does not exist`);
  return toContact(row);
}
