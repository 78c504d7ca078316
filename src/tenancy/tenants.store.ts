import { eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { idempotencyKeys, tenants, users } from '../db/schema.ts';
import type { Role } from '../auth/roles.ts';
import type { TenantTx } from './with-tenant.ts';

export type TenantRow = typeof tenants.$inferSelect;

/**
 * Platform-operator reads and writes across tenants. They only work on the owner
 * connection (the `platform_operator` policy on tenants names the owner role); through
 * dealix_app they see nothing. Hence `unsafe…`: never call them with request input.
 */
export async function unsafeFindTenantBySlug(ownerPool: pg.Pool, slug: string): Promise<TenantRow | undefined> {
  const [row] = await drizzle({ client: ownerPool }).select().from(tenants).where(eq(tenants.slug, slug));
  return row;
}

/** Deletes expired Idempotency-Keys of every tenant (policy `platform_purge_expired`). */
export async function unsafePurgeExpiredIdempotencyKeys(ownerPool: pg.Pool): Promise<number> {
  const result = await drizzle({ client: ownerPool }).delete(idempotencyKeys).where(sql`${idempotencyKeys.expiresAt} < now()`);
  return result.rowCount ?? 0;
}

export async function insertTenant(tx: TenantTx, values: { id: string; slug: string; name: string }): Promise<TenantRow | undefined> {
  const [row] = await tx.insert(tenants).values(values).onConflictDoNothing({ target: tenants.slug }).returning();
  return row;
}

export async function insertUser(tx: TenantTx, values: { email: string; displayName: string; roles: Role[] }) {
  const [row] = await tx.insert(users).values(values).returning();
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row;
}

/** The first user holding a role, oldest first: whom a CLI token speaks for by default. */
export async function findUserWithRole(tx: TenantTx, role: Role) {
  const [row] = await tx
    .select()
    .from(users)
    .where(sql`${role} = ANY(${users.roles})`)
    .orderBy(users.createdAt, users.id)
    .limit(1);
  return row;
}
