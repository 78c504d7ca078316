import { parseArgs } from 'node:util';
import { issueToken } from '../auth/issue-token.ts';
import { ROLE_VALUES, type Role } from '../auth/roles.ts';
import { ConfigError, loadConfig, type Config } from '../config/config.ts';
import { createPool } from '../db/client.ts';
import { openDatabase, prepareDatabase } from '../db/database-runtime.ts';
import { classifyIntent } from '../intents/classify-intent.ts';
import { AppError } from '../http/app-error.ts';
import { createLogger } from '../http/logger.ts';
import { createTenant } from '../tenancy/create-tenant.ts';
import { seedDemoTenant } from '../app/seed-demo.ts';
import { findUserWithRole, unsafeFindTenantBySlug } from '../tenancy/tenants.store.ts';
import { withTenant } from '../tenancy/with-tenant.ts';

const USAGE = `Usage: npx dealix <command>

Commands (the platform operator's tools; they use the owner database role):
  token --tenant <slug> --role <role> [--sub <user id>] [--ttl <hours>]
                              Print a signed access token (HS256). Without --sub the token
                              speaks for the tenant's first user holding that role.
  migrate                     Apply pending database migrations.
  tenant create <slug> <name> Create a tenant and its first admin user.
  seed                        Seed the demo tenant (slug "demo"); does nothing if it exists.
  classify "<text>"           Print the intent of one inbound message as JSON (intent,
                              confidence, language, reason). Pure: no database, no config.

Roles: ${ROLE_VALUES.join(', ')}
Configuration comes from the same environment variables as the server (see .env.example).
`;

class UsageError extends Error {}
/** A well-formed command that cannot be carried out (unknown tenant, taken slug, …). */
class CliError extends Error {}

async function withOwner<T>(config: Config, work: (ownerPool: ReturnType<typeof createPool>, jwtSecret: string | undefined) => Promise<T>): Promise<T> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', destination: process.stderr });
  const database = await openDatabase(config, logger, { reuseRunning: true });
  const ownerPool = createPool({ connectionString: database.ownerUrl, max: 2, applicationName: 'dealix-cli' });
  try {
    await prepareDatabase(database, config, logger);
    const secret = config.jwt.mode === 'hs256' ? (config.jwt.secret ?? database.localSecrets?.jwtSecret) : undefined;
    return await work(ownerPool, secret);
  } finally {
    await ownerPool.end();
    await database.stop();
  }
}

async function run(argv: string[]): Promise<string> {
  const [command, ...rest] = argv;
  // Classification reads only the shipped data set: it must work without configuration and
  // never start (or wait for) the database.
  if (command === 'classify') {
    const text = rest.join(' ').trim();
    if (!text) throw new UsageError('classify needs the message text: classify "<text>"');
    if (text.length > 4000) throw new UsageError('the message text must be at most 4000 characters');
    return JSON.stringify(classifyIntent({ text }));
  }
  const config = loadConfig(process.env);
  switch (command) {
    case 'token': {
      const { values } = parseArgs({
        args: rest,
        options: { tenant: { type: 'string' }, role: { type: 'string' }, sub: { type: 'string' }, ttl: { type: 'string' } },
        strict: true,
      });
      if (!values.tenant || !values.role) throw new UsageError('token needs --tenant <slug> and --role <role>');
      if (!(ROLE_VALUES as string[]).includes(values.role)) {
        throw new UsageError(`unknown role "${values.role}"; one of: ${ROLE_VALUES.join(', ')} (platform operator powers are this CLI, never a token)`);
      }
      const role = values.role as Role;
      const ttlHours = values.ttl === undefined ? config.tokenTtlHours : Number(values.ttl);
      if (!Number.isInteger(ttlHours) || ttlHours < 1 || ttlHours > 24 * 30) throw new UsageError('--ttl must be a whole number of hours, 1 to 720');
      if (config.jwt.mode === 'jwks') throw new CliError('tokens come from your identity provider (DEALIX_JWKS_URL is set)');
      return withOwner(config, async (ownerPool, secret) => {
        const tenant = await unsafeFindTenantBySlug(ownerPool, values.tenant as string);
        if (!tenant) throw new CliError(`no tenant with slug "${values.tenant}"`);
        let sub = values.sub;
        if (!sub) {
          const user = await withTenant({ pool: ownerPool, tenantId: tenant.id, readOnly: true }, (tx) => findUserWithRole(tx, role));
          if (!user) throw new CliError(`tenant "${tenant.slug}" has no user with role ${role}; pass --sub <user id>`);
          sub = user.id;
        }
        if (!secret) throw new CliError('no HS256 secret is configured');
        return issueToken({
          secret,
          tenantId: tenant.id,
          sub,
          roles: [role],
          ttlHours,
          ...(config.jwt.issuer ? { issuer: config.jwt.issuer } : {}),
          ...(config.jwt.audience ? { audience: config.jwt.audience } : {}),
        });
      });
    }
    case 'migrate':
      return withOwner(config, async () => 'migrations are up to date');
    case 'tenant': {
      const [sub, slug, ...nameParts] = rest;
      if (sub !== 'create' || !slug || nameParts.length === 0) throw new UsageError('usage: tenant create <slug> <name>');
      return withOwner(config, async (ownerPool) => {
        const result = await createTenant({ ownerPool, slug, name: nameParts.join(' ') });
        if (!result.created) throw new CliError(`a tenant with slug "${slug}" already exists`);
        return JSON.stringify({ id: result.tenant.id, slug: result.tenant.slug, name: result.tenant.name });
      });
    }
    case 'seed':
      return withOwner(config, async (ownerPool) => ((await seedDemoTenant(ownerPool)).created ? 'demo tenant seeded' : 'demo tenant already exists; nothing to do'));
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return USAGE;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}


try {
  process.stdout.write(`${await run(process.argv.slice(2))}\n`);
  process.exit(0);
} catch (error) {
  if (error instanceof UsageError) process.stderr.write(`dealix: ${error.message}\n\n${USAGE}`);
  else if (error instanceof ConfigError) process.stderr.write(`dealix: ${error.message}\n`);
  else if (error instanceof AppError) process.stderr.write(`dealix: ${error.detail}${error.errors ? ` (${error.errors.map((e) => `${e.field} ${e.message}`).join('; ')})` : ''}\n`);
  else process.stderr.write(`dealix: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
}
