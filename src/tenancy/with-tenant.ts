import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { Db } from '../db/client.ts';
import * as schema from '../db/schema.ts';

/**
 * A transaction scoped to one tenant. It has no `.transaction()`: a nested BEGIN inside
 * would commit the outer request transaction early, so use cases cannot open their own.
 */
export type TenantTx = Omit<Db, 'transaction' | '$client'>;

// One drizzle wrapper per pooled connection, not per request: building it re-derives the
// schema's relations, which the list benchmark showed as ~6 % of a request's CPU.
const wrappers = new WeakMap<pg.PoolClient, TenantTx>();
function wrap(client: pg.PoolClient): TenantTx {
  let tx = wrappers.get(client);
  if (!tx) {
    tx = drizzle({ client, schema });
    wrappers.set(client, tx);
  }
  return tx;
}

// What runs once the transaction has committed; set for the duration of one withTenant.
const commitHooks = new WeakMap<TenantTx, Array<() => void>>();

/**
 * Runs `hook` once the transaction commits, never if it rolls back. For caches of what the
 * transaction writes: dropped before the commit, a concurrent read would cache the old value
 * again, and it would outlive the write (a rotated webhook key would keep working for seconds).
 * Hooks run in order and must not throw: the data is committed by then.
 *
 * @example
 * afterCommit(tx, () => cache.delete(tenantId));
 */
export function afterCommit(tx: TenantTx, hook: () => void): void {
  const hooks = commitHooks.get(tx);
  if (!hooks) throw new Error('afterCommit: the transaction is not a withTenant transaction that is still open');
  hooks.push(hook);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface WithTenantOptions {
  pool: pg.Pool;
  tenantId: string;
  readOnly?: boolean;
  /** lock_timeout for this transaction; 10 s unless the caller says otherwise. */
  lockTimeoutMs?: number;
  /** Check, in the same round trip as BEGIN, that the tenant exists (read through RLS). */
  requireTenant?: boolean;
}

/** The tenant named by the caller does not exist (or is not visible under its own scope). */
export class TenantNotFoundError extends Error {
  constructor(tenantId: string) {
    super(`Tenant ${tenantId} does not exist`);
    this.name = 'TenantNotFoundError';
  }
}

/**
 * Runs `work` in one transaction whose `app.tenant_id` is the given tenant, so every row
 * read or written passes the tables' RLS policies for that tenant only. Commits when `work`
 * resolves, rolls back when it throws; hooks given to {@link afterCommit} run after the commit.
 *
 * BEGIN and set_config go in one round trip (a simple-protocol batch): the tenant id is
 * checked to be a UUID first, which is what makes inlining it safe.
 *
 * @example
 * const deal = await withTenant({ pool, tenantId }, (tx) => getDeal({ tx, dealId }));
 */
export async function withTenant<T>(options: WithTenantOptions, work: (tx: TenantTx) => Promise<T>): Promise<T> {
  if (!UUID.test(options.tenantId)) throw new Error('withTenant: tenantId must be a UUID');
  const client = await options.pool.connect();
  let releaseError: Error | undefined;
  try {
    const tenantId = options.tenantId.toLowerCase();
    // lock_timeout turns a long wait on a row or key lock (a duplicate request holding an
    // Idempotency-Key, say) into SQLSTATE 55P03 instead of a request that hangs.
    const opened = await client.query(
      `BEGIN${options.readOnly ? ' READ ONLY' : ''}; ` +
        `SELECT set_config('app.tenant_id', '${tenantId}', true), set_config('lock_timeout', '${Math.trunc(options.lockTimeoutMs ?? 10_000)}ms', true)` +
        (options.requireTenant ? `; SELECT 1 FROM tenants WHERE id = '${tenantId}'` : ''),
    );
    if (options.requireTenant) {
      const results = opened as unknown as pg.QueryResult[];
      if (results.at(-1)?.rowCount !== 1) throw new TenantNotFoundError(tenantId);
    }
    const tx = wrap(client);
    const hooks: Array<() => void> = [];
    commitHooks.set(tx, hooks);
    let result: T;
    try {
      result = await work(tx);
      await client.query('COMMIT');
    } finally {
      commitHooks.delete(tx);
    }
    for (const hook of hooks) hook();
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      // The connection is unusable (server gone, protocol error): destroy it, do not pool it.
      releaseError = rollbackError as Error;
    }
    throw error;
  } finally {
    client.release(releaseError);
  }
}
