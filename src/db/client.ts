import { drizzle, type NodePgDatabase, type NodePgTransaction } from 'drizzle-orm/node-postgres';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import pg from 'pg';
import * as schema from './schema.ts';

export type Schema = typeof schema;
export type Db = NodePgDatabase<Schema>;
export type Tx = NodePgTransaction<Schema, ExtractTablesWithRelations<Schema>>;
/** Anything that can run a query: the pool-backed db or an open transaction. */
export type Executor = Db | Tx;

// bigint (int8) columns hold halalas; they fit a JS number far past any deal size
// (2^53 halalas ≈ 90 trillion SAR), and drizzle's mode:'number' expects numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

export interface PoolOptions {
  connectionString: string;
  max: number;
  applicationName: string;
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    application_name: options.applicationName,
    // A request should never hold a transaction open for long; these turn a stuck request
    // into an error instead of a pool that slowly fills with idle-in-transaction sessions.
    statement_timeout: 30_000,
    idle_in_transaction_session_timeout: 60_000,
    connectionTimeoutMillis: 10_000,
  });
  // An idle client that loses its server (PostgreSQL restarted) emits 'error'; without a
  // listener that would crash the process. The pool drops the client and makes a new one.
  pool.on('error', () => undefined);
  // Likewise for a checked-out client whose socket dies between queries: its next query
  // rejects, which is where we handle it; the event itself must not crash the process.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export function createDb(pool: pg.Pool): Db {
  return drizzle({ client: pool, schema });
}
