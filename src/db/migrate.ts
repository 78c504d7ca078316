import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { drizzle } from 'drizzle-orm/node-postgres';
import { Logger as GraphileLogger, runMigrations as runGraphileMigrations } from 'graphile-worker';
import pg from 'pg';
import { z } from 'zod';

const silentGraphileLogger = new GraphileLogger(() => () => undefined);

export const MIGRATIONS_FOLDER = path.resolve(import.meta.dirname, '../../drizzle');

const ZJournal = z.object({ entries: z.array(z.object({ idx: z.number(), when: z.number(), tag: z.string() })) });

/**
 * Applies pending migrations as the owner role. An advisory lock serialises concurrent
 * starters (two instances booting at once must not both run 0001). `migrationsFolder` is for
 * migration tests, which migrate a database up to an older journal first.
 */
export async function runMigrations(ownerUrl: string, options: { migrationsFolder?: string } = {}): Promise<{ applied: number }> {
  const client = new pg.Client({ connectionString: ownerUrl, application_name: 'dealix-migrate' });
  await client.connect();
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext('dealix:migrate'))`);
    const before = await countApplied(client);
    // graphile-worker's own schema first: our migrations grant on it and queue into it.
    await runGraphileMigrations({ connectionString: ownerUrl, logger: silentGraphileLogger });
    await migrate(drizzle({ client }), { migrationsFolder: options.migrationsFolder ?? MIGRATIONS_FOLDER });
    const after = await countApplied(client);
    return { applied: after - before };
  } finally {
    await client.query(`SELECT pg_advisory_unlock(hashtext('dealix:migrate'))`).catch(() => undefined);
    await client.end();
  }
}

async function countApplied(client: pg.Client): Promise<number> {
  const exists = await client.query<{ present: boolean }>(`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS present`);
  if (!exists.rows[0]?.present) return 0;
  const result = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
  return result.rows[0]?.n ?? 0;
}

/** The newest migration this build ships (drizzle records its `when` as created_at). */
export async function latestShippedMigration(): Promise<{ tag: string; when: number }> {
  const journal = ZJournal.parse(JSON.parse(await readFile(path.join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')));
  const last = journal.entries.at(-1);
  if (!last) throw new Error('The migrations journal is empty');
  return last;
}

/**
 * Gives dealix_app LOGIN and the configured password. Run by the owner, which created the
 * role in migration 0001 and so may alter it. When an operator made the role themselves, the
 * owner may lack that right: then the role is theirs to manage and we leave it alone.
 */
export async function ensureAppRoleLogin(ownerUrl: string, password: string): Promise<void> {
  const client = new pg.Client({ connectionString: ownerUrl, application_name: 'dealix-migrate' });
  await client.connect();
  try {
    await client.query(`ALTER ROLE dealix_app WITH LOGIN PASSWORD ${client.escapeLiteral(password)}`);
    await client.query(`DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO dealix_app', current_database()); END $$`);
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw error;
  } finally {
    await client.end();
  }
}

/**
 * Refuses to serve requests through a role that would make row-level security moot.
 * Called at boot on the app pool.
 */
export async function assertAppRoleIsConfined(pool: pg.Pool): Promise<void> {
  const result = await pool.query<{ rolname: string; rolsuper: boolean; rolbypassrls: boolean; owned: number }>(`
    SELECT r.rolname, r.rolsuper, r.rolbypassrls,
           (SELECT count(*)::int FROM pg_class c WHERE c.relowner = r.oid AND c.relnamespace = 'public'::regnamespace) AS owned
      FROM pg_roles r WHERE r.rolname = current_user`);
  const role = result.rows[0];
  if (!role) throw new Error('Cannot read the app role from pg_roles');
  const problems = [
    role.rolsuper && 'is a superuser',
    role.rolbypassrls && 'has BYPASSRLS',
    role.owned > 0 && `owns ${role.owned} table(s)`,
  ].filter(Boolean);
  if (problems.length) {
    throw new Error(`The app database role "${role.rolname}" ${problems.join(', ')}: row-level security would not confine it. Connect as dealix_app.`);
  }
}
