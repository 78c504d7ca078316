import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { ensureAppRoleLogin, runMigrations } from '../../src/db/migrate.ts';
import { createWriteStream } from 'node:fs';
import { createLogger } from '../../src/http/logger.ts';
import { freePort } from './free-port.ts';

export interface TestPostgres {
  port: number;
  superuserPassword: string;
  ownerPassword: string;
  appPassword: string;
  template: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: TestPostgres;
  }
}

/**
 * Starts one real PostgreSQL for the whole run and migrates a template database once;
 * every test file clones the template (CREATE DATABASE … TEMPLATE), which takes
 * milliseconds instead of re-running migrations.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dealix-test-'));
  // As root, PostgreSQL runs as the postgres user, which must reach the data dir.
  await chmod(dir, 0o755);
  const port = await freePort();
  const secret = () => randomBytes(24).toString('base64url');
  const secrets = { superuserPassword: secret(), ownerPassword: secret(), appPassword: secret(), jwtSecret: secret() };
  const template = 'dealix_template';
  const handle = await startEmbeddedPostgres({
    pgDataDir: path.join(dir, 'pg'),
    port,
    secrets,
    // PG_LOG_FILE=/tmp/pg.log keeps PostgreSQL's own log (deadlock reports, say) for diagnosis.
    logger: process.env.PG_LOG_FILE ? createLogger({ level: 'debug', destination: createWriteStream(process.env.PG_LOG_FILE) }) : createLogger({ level: 'silent' }),
    database: template,
  });
  await runMigrations(handle.ownerUrl);
  await ensureAppRoleLogin(handle.ownerUrl, secrets.appPassword);
  project.provide('postgres', {
    port,
    superuserPassword: secrets.superuserPassword,
    ownerPassword: secrets.ownerPassword,
    appPassword: secrets.appPassword,
    template,
  });
  return async () => {
    await handle.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
