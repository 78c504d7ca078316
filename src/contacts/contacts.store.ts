import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { contacts } from '../db/schema.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TContact } from './contacts.schemas.ts';

export type ContactRow = typeof contacts.$inferSelect;

export function toContact(row: ContactRow): TContact {
  return {
    id: row.id,
    phone: row.phoneE164,
    name: row.name,
    company: row.company,
    email: row.email,
    preferred_language: row.preferredLanguage as TContact['preferred_language'],
    owner_user_id: row.ownerUserId,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export async function findContact(tx: TenantTx, id: string): Promise<ContactRow | undefined> {
  const [row] = await tx.select().from(contacts).where(eq(contacts.id, id));
  return row;
}

export async function selectContacts(
  tx: TenantTx,
  filter: { ownerUserId?: string | undefined; phoneE164?: string | undefined; afterId?: string | undefined; limit: number },
): Promise<ContactRow[]> {
  const conditions: SQL[] = [];
  if (filter.ownerUserId) conditions.push(eq(contacts.ownerUserId, filter.ownerUserId));
  if (filter.phoneE164) conditions.push(eq(contacts.phoneE164, filter.phoneE164));
  if (filter.afterId) conditions.push(lt(contacts.id, filter.afterId));
  return tx
    .select()
    .from(contacts)
    .where(and(...conditions))
    .orderBy(desc(contacts.id))
    .limit(filter.limit);
}
