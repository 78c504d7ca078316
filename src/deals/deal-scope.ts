import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { isLimitedToOwn, type Permission } from '../auth/roles.ts';
import type { AuthContext } from '../auth/verify-token.ts';
import { contacts, deals } from '../db/schema.ts';
import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { findDeal, scopeCondition, type DealScope } from './deals.store.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Matches no user: a caller limited to "own" deals whose subject is not a user id owns nothing.
const NOBODY = '00000000-0000-0000-0000-000000000000';

/** Which deals this caller may touch for this permission: all, or only those they own. */
export function dealScopeFor(auth: AuthContext, permission: Permission): DealScope {
  if (!isLimitedToOwn(auth.roles, permission)) return {};
  return { ownerUserId: UUID.test(auth.sub) ? auth.sub.toLowerCase() : NOBODY };
}

/** True when this contact has a deal inside the scope (a sales_rep may reach the contacts of their deals). */
export async function contactInScope(tx: TenantTx, contactId: string, scope: DealScope): Promise<boolean> {
  if (!UUID.test(contactId)) return false;
  if (scope.ownerUserId === undefined) {
    const [contact] = await tx.select({ id: contacts.id }).from(contacts).where(eq(contacts.id, contactId));
    return contact !== undefined;
  }
  const [row] = await tx
    .select({ id: deals.id })
    .from(deals)
    .where(and(eq(deals.contactId, contactId), scopeCondition(scope)))
    .limit(1);
  return row !== undefined;
}

/**
 * Answers 404 unless the `deal_id` and `contact_id` a gateway payload names exist in the tenant
 * and are inside the caller's scope: the deal is theirs, the contact has a deal of theirs. The
 * same answer as for a deal that does not exist, so the scope's edge reveals nothing; and no run
 * starts for a record the caller cannot see (another tenant's id fails here, not in a step).
 */
export async function requirePayloadInScope(tx: TenantTx, payload: Record<string, unknown>, scope: DealScope): Promise<void> {
  const { deal_id: dealId, contact_id: contactId } = payload;
  if (dealId !== undefined) {
    if (typeof dealId !== 'string' || !UUID.test(dealId) || !(await findDeal(tx, dealId, scope))) {
      throw new AppError('not_found', `Deal ${typeof dealId === 'string' ? dealId : JSON.stringify(dealId)} does not exist`);
    }
  }
  if (contactId !== undefined) {
    if (typeof contactId !== 'string' || !(await contactInScope(tx, contactId, scope))) {
      throw new AppError('not_found', `Contact ${typeof contactId === 'string' ? contactId : JSON.stringify(contactId)} does not exist`);
    }
  }
}

/**
 * The deal scope as a flow run carries it (`input.deal_scope`), so a plugin re-checks its
 * deal against the caller who started the run, not against the whole tenant.
 */
export const ZRunDealScope = z.strictObject({ owner_user_id: z.uuid().optional() });
export type TRunDealScope = z.infer<typeof ZRunDealScope>;

export function toRunDealScope(scope: DealScope): TRunDealScope {
  return scope.ownerUserId === undefined ? {} : { owner_user_id: scope.ownerUserId };
}

/**
 * The scope a run was started under. A run without one was started by an internal caller
 * (or before runs carried it): the whole tenant. A malformed one fails the step loudly.
 */
export function runDealScope(input: { deal_scope?: unknown }): DealScope {
  if (input.deal_scope === undefined) return {};
  const parsed = ZRunDealScope.parse(input.deal_scope);
  return parsed.owner_user_id === undefined ? {} : { ownerUserId: parsed.owner_user_id };
}
