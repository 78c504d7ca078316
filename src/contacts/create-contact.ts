import { contacts } from '../db/schema.ts';
import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TContact, TCreateContactRequest } from './contacts.schemas.ts';
import { toContact } from './contacts.store.ts';

export interface CreateContactOptions {
  tx: TenantTx;
  input: TCreateContactRequest;
}

/** Creates a contact; one phone number is one contact per tenant. */
export async function createContact({ tx, input }: CreateContactOptions): Promise<TContact> {
  try {
    const [row] = await tx
      .insert(contacts)
      .values({
        phoneE164: input.phone,
        name: input.name ?? null,
        company: input.company ?? null,
        email: input.email ?? null,
        preferredLanguage: input.preferred_language,
        ownerUserId: input.owner_user_id ?? null,
      })
      .returning();
    if (!row) throw new Error('INSERT … RETURNING gave no row');
    return toContact(row);
  } catch (error) {
    throw duplicatePhone(error) ?? error;
  }
}

/** The unique (tenant, phone) index says which contact already has the number. */
export function duplicatePhone(error: unknown): AppError | undefined {
  const pgError = (error as { cause?: { code?: string; constraint?: string } }).cause ?? (error as { code?: string; constraint?: string });
  if (pgError?.code === '23505' && pgError.constraint === 'contacts__tenant_phone__key') {
    return new AppError('conflict', 'A contact with this phone number already exists', {
      errors: [{ field: 'phone', message: 'is already used by another contact' }],
    });
  }
  return undefined;
}
