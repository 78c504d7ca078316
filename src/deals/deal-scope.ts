import { isLimitedToOwn, type Permission } from '../auth/roles.ts';
import type { AuthContext } from '../auth/verify-token.ts';
import type { DealScope } from './deals.store.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Matches no user: a caller limited to "own" deals whose subject is not a user id owns nothing.
const NOBODY = '00000000-0000-0000-0000-000000000000';

/** Which deals this caller may touch for this permission: all, or only those they own. */
export function dealScopeFor(auth: AuthContext, permission: Permission): DealScope {
  if (!isLimitedToOwn(auth.roles, permission)) return {};
  return { ownerUserId: UUID.test(auth.sub) ? auth.sub.toLowerCase() : NOBODY };
}
