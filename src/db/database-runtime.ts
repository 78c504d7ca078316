import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { loadOrCreateLocalSecrets, type TLocalSecrets } from '../config/local-secrets.ts';
import { startEmbeddedPostgres } from './embedded.ts';
import { ensureAppRoleLogin, runMigrations } from './migrate.ts';
import { isPostmasterRunning } from './stale-postmaster.ts';

export interface DatabaseRuntime {
  mode: 'embedded' | 'external';
  ownerUrl: string;
  appUrl: string;
  /** Secrets kept in the data dir (embedded mode): the generated JWT secret among them. */
  localSecrets: TLocalSecrets | undefined;
  stop(): Promise<void>;
}

/**
 * Opens the database the config names: the embedded PostgreSQL under the data dir, or the
 * external server of DATABASE_URL. `reuseRunning` (the CLI) connects to an embedded server
 * that a running Dealix already started instead of starting a second one.
 */
export async function openDatabase(config: Config, logger: Logger, options: { reuseRunning?: boolean } = {}): Promise<DatabaseRuntime> {
  const db = config.database;
  if (db.mode === 'external') {
    const appUrl = db.appUrl ?? deriveAppUrl(db.ownerUrl, db.appPassword);
    return { mode: 'external', ownerUrl: db.ownerUrl, appUrl, localSecrets: undefined, stop: async () => undefined };
  }
  const secrets = await loadOrCreateLocalSecrets(config.dataDir);
  if (options.reuseRunning && (await isPostmasterRunning(db.dataDir))) {
    const url = (user: string, password: string) => `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${db.port}/dealix`;
    return {
      mode: 'embedded',
      ownerUrl: url('dealix_owner', secrets.ownerPassword),
      appUrl: url('dealix_app', secrets.appPassword),
      localSecrets: secrets,
      stop: async () => undefined,
    };
  }
  const handle = await startEmbeddedPostgres({ pgDataDir: db.dataDir, port: db.port, secrets, logger });
  return { mode: 'embedded', ownerUrl: handle.ownerUrl, appUrl: handle.appUrl, localSecrets: secrets, stop: () => handle.stop() };
}

/** Applies migrations and makes sure dealix_app can log in with the password we hold. */
export async function prepareDatabase(runtime: DatabaseRuntime, config: Config, logger: Logger): Promise<void> {
  const { applied } = await runMigrations(runtime.ownerUrl);
  if (applied > 0) logger.info({ applied }, 'database migrations applied');
  const password = runtime.localSecrets?.appPassword ?? (config.database.mode === 'external' && !config.database.appUrl ? config.appDbPassword : undefined);
  if (password) await ensureAppRoleLogin(runtime.ownerUrl, password);
}

function deriveAppUrl(ownerUrl: string, password: string | undefined): string {
  if (!password) throw new Error('DEALIX_APP_DB_PASSWORD is required to derive the app connection');
  const url = new URL(ownerUrl);
  url.username = 'dealix_app';
  url.password = password;
  return url.href;
}
