import type pg from 'pg';

/** One md5 per tenant-scoped table (every table with a tenant_id column), over all its rows. */
export type Checksums = Record<string, string>;

const tableLists = new WeakMap<pg.Pool, Promise<string>>();

/** The UNION of one md5-per-table select, built once per pool: the set of tables is fixed by the migrations. */
function checksumQuery(superuser: pg.Pool): Promise<string> {
  let query = tableLists.get(superuser);
  if (!query) {
    query = superuser
      .query<{ name: string; label: string }>(
        `SELECT format('%I.%I', table_schema, table_name) AS name, table_name AS label FROM information_schema.columns
          WHERE column_name = 'tenant_id' AND table_schema NOT IN ('pg_catalog', 'information_schema')
            AND (table_schema, table_name) IN (SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE')
          ORDER BY 1`,
      )
      .then(({ rows }) => {
        if (rows.length === 0) throw new Error('no table has a tenant_id column');
        return rows
          .map(({ name, label }) => `SELECT '${label}' AS t, count(*)::int AS n, md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS h FROM ${name} x`)
          .join(' UNION ALL ');
      });
    tableLists.set(superuser, query);
  }
  return query;
}

/**
 * Checksums of every tenant-scoped table, read as superuser (past RLS, every tenant's rows):
 * equal before and after a call proves the call changed nothing, in any tenant.
 */
export async function tenantTablesChecksum(superuser: pg.Pool): Promise<Checksums> {
  const { rows } = await superuser.query<{ t: string; n: number; h: string }>(await checksumQuery(superuser));
  const sums: Checksums = {};
  for (const row of rows) sums[row.t] = `${row.n}:${row.h}`;
  return sums;
}

/** The tables whose checksum differs (empty when nothing changed). */
export function changedTables(before: Checksums, after: Checksums): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => before[name] !== after[name]).sort();
}
