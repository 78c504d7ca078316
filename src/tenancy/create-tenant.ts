import type pg from 'pg';
import { uuidv7 } from '../db/uuid-v7.ts';
import { AppError } from '../http/app-error.ts';
import { insertTenant, insertUser, type TenantRow } from './tenants.store.ts';
import { withTenant, type TenantTx } from './with-tenant.ts';

export interface CreateTenantOptions {
  /** The owner pool: creating tenants is a platform-operator act (CLI, seed). */
  ownerPool: pg.Pool;
  slug: string;
  name: string;
  adminEmail?: string;
  /** Extra setup inside the same transaction (the demo seed adds its data here). */
  populate?: (tx: TenantTx, tenant: TenantRow) => Promise<void>;
}

export type CreateTenantResult = { created: true; tenant: TenantRow } | { created: false; tenant: undefined };

const SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;

/**
 * Creates a tenant and its first admin in one transaction scoped to the new tenant id, so
 * the RLS policies that guard every table hold for the setup too. A slug already taken
 * gives `{ created: false }` and changes nothing: running it twice is safe.
 */
export async function createTenant(options: CreateTenantOptions): Promise<CreateTenantResult> {
  if (!SLUG.test(options.slug)) {
    throw new AppError('validation_failed', 'Invalid slug', {
      errors: [{ field: 'slug', message: 'must be 2–63 characters: lowercase letters, digits and dashes, not starting with a dash' }],
    });
  }
  if (!options.name.trim()) throw new AppError('validation_failed', 'Invalid name', { errors: [{ field: 'name', message: 'must not be empty' }] });
  const id = uuidv7();
  return withTenant({ pool: options.ownerPool, tenantId: id }, async (tx) => {
    const tenant = await insertTenant(tx, { id, slug: options.slug, name: options.name.trim() });
    if (!tenant) return { created: false, tenant: undefined };
    await insertUser(tx, { email: options.adminEmail ?? `admin@${options.slug}.dealix.local`, displayName: 'Administrator', roles: ['admin'] });
    await options.populate?.(tx, tenant);
    return { created: true, tenant };
  });
}
