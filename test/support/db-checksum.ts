import type pg from 'pg';

/** A summary per tenant-scoped table (every table with a tenant_id column): its row count and a digest of its rows. */
export type Checksums = Record<string, string>;

const tableLists = new WeakMap<pg.Pool, Promise<Array<{ name: string; label: string }>>>();

/**
 * `exact`: an md5 over every row's text. `fast`: the row count and the newest row version's
 * xmin: an insert or update writes a version with a newer xmin, a delete lowers the count
 * (and a delete plus insert shows the insert's xmin). Sound while calls run one after
 * another, as a test file's do; several times cheaper on tables with large JSON columns.
 */
export type ChecksumMode = 'exact' | 'fast';

/** The tenant-scoped tables, read once per pool: the set is fixed by the migrations. */
function tenantTables(superuser: pg.Pool) {
  let tables = tableLists.get(superuser);
  if (!tables) {
    tables = superuser
      .query<{ name: string; label: string }>(
        `SELECT format('%I.%I', table_schema, table_name) AS name, table_name AS label FROM information_schema.columns
          WHERE column_name = 'tenant_id' AND table_schema NOT IN ('pg_catalog', 'information_schema')
            AND (table_schema, table_name) IN (SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE')
          ORDER BY 1`,
      )
      .then(({ rows }) => {
        if (rows.length === 0) throw new Error('no table has a tenant_id column');
        return rows;
      });
    tableLists.set(superuser, tables);
  }
  return tables;
}

const SUMMARY: Record<ChecksumMode, string> = {
  exact: `md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), ''))`,
  fast: `coalesce(max(x.xmin::text::bigint), 0)::text`,
};

async function checksumQuery(superuser: pg.Pool, mode: ChecksumMode): Promise<string> {
  const tables = await tenantTables(superuser);
  return tables.map(({ name, label }) => `SELECT '${label}' AS t, count(*)::int AS n, ${SUMMARY[mode]} AS h FROM ${name} x`).join(' UNION ALL ');
}

/**
 * Checksums of every tenant-scoped table, read as superuser (past RLS, every tenant's rows):
 * equal before and after a call proves the call changed nothing, in any tenant.
 */
export async function tenantTablesChecksum(superuser: pg.Pool, mode: ChecksumMode = 'exact'): Promise<Checksums> {
  const { rows } = await superuser.query<{ t: string; n: number; h: string }>(await checksumQuery(superuser, mode));
  const sums: Checksums = {};
  for (const row of rows) sums[row.t] = `${row.n}:${row.h}`;
  return sums;
}

/** The tables whose checksum differs (empty when nothing changed). */
export function changedTables(before: Checksums, after: Checksums): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => before[name] !== after[name]).sort();
}
