import { eq, sql } from 'drizzle-orm';
import { contacts } from '../db/schema.ts';
import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TContact, TUpdateContactRequest } from './contacts.schemas.ts';
import { toContact } from './contacts.store.ts';
import { duplicatePhone } from './create-contact.ts';

export interface UpdateContactOptions {
  tx: TenantTx;
  contactId: string;
  input: TUpdateContactRequest;
}

export async function updateContact({ tx, contactId, input }: UpdateContactOptions): Promise<TContact> {
  try {
    const [row] = await tx
      .update(contacts)
      .set({
        ...(input.phone !== undefined ? { phoneE164: input.phone } : {}),
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.company !== undefined ? { company: input.company } : {}),
        ...(input.email !== undefined ? { email: input.email } : {}),
        ...(input.preferred_language !== undefined ? { preferredLanguage: input.preferred_language } : {}),
        ...(input.owner_user_id !== undefined ? { ownerUserId: input.owner_user_id } : {}),
        updatedAt: sql`now()`,
      })
      .where(eq(contacts.id, contactId))
      .returning();
    if (!row) throw new AppError('not_found', `Contact ${contactId} does not exist`);
    return toContact(row);
  } catch (error) {
    throw duplicatePhone(error) ?? error;
  }
}
