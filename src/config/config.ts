import path from 'node:path';
import { z } from 'zod';
import { parseMasterKey } from '../crypto/envelope.ts';
import { FAULT_POINTS, type FaultPoint } from './fault-points.ts';
import { parseAllowedOrigin, WHATSAPP_PROVIDER_NAMES, type EnvProviderAccounts, type WhatsAppProviderName } from './whatsapp-env.ts';

/**
 * Environment variables are parsed once at boot into one typed object. Empty strings count
 * as unset: a blank `DATABASE_URL=` in a .env file must not switch modes or become "".
 */
const optionalString = z.preprocess((value) => (value === '' ? undefined : value), z.string().optional());
const optionalUrl = z.preprocess(
  (value) => (value === '' ? undefined : value),
  z.url({ message: 'must be a URL' }).optional(),
);
const boolFlag = (fallback: boolean) =>
  z.preprocess(
    (value) => (value === '' || value === undefined ? String(fallback) : value),
    z.enum(['true', 'false', '1', '0'], { message: 'must be true, false, 1 or 0' }).transform((v) => v === 'true' || v === '1'),
  );
const intInRange = (fallback: number, min: number, max: number) =>
  z.preprocess(
    (value) => (value === '' || value === undefined ? fallback : value),
    z.coerce.number({ message: 'must be a number' }).int('must be an integer').min(min).max(max),
  );

export const ZEnv = z
  .object({
    NODE_ENV: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['development', 'test', 'production']).default('development')),
    PORT: intInRange(3000, 0, 65535),
    HOST: optionalString.default('0.0.0.0'),
    LOG_LEVEL: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ),
    DEALIX_DATA_DIR: optionalString.default('.dealix'),
    DATABASE_URL: optionalUrl,
    DATABASE_APP_URL: optionalUrl,
    DEALIX_APP_DB_PASSWORD: optionalString.refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
    DEALIX_PG_PORT: intInRange(54329, 1, 65535),
    DEALIX_DB_POOL_MAX: intInRange(10, 1, 200),
    DEALIX_JWT_SECRET: optionalString.refine((v) => v === undefined || Buffer.byteLength(v) >= 32, 'must be at least 32 bytes'),
    DEALIX_JWKS_URL: optionalUrl,
    DEALIX_JWT_ISSUER: optionalString,
    DEALIX_JWT_AUDIENCE: optionalString,
    DEALIX_TOKEN_TTL_HOURS: intInRange(12, 1, 24 * 30),
    DEALIX_SEED_DEMO: boolFlag(true),
    DEALIX_IDEMPOTENCY_TTL_HOURS: intInRange(24, 1, 24 * 7),
    DEALIX_LOCK_TIMEOUT_MS: intInRange(10_000, 100, 600_000),
    DEALIX_BODY_LIMIT_BYTES: intInRange(1_048_576, 1024, 50 * 1_048_576),
    // Above the 60 s idle timeout of common load balancers (AWS ALB, nginx, GCP): we must never
    // close a socket they still consider open.
    DEALIX_KEEP_ALIVE_TIMEOUT_MS: intInRange(65_000, 1_000, 3_600_000),
    DEALIX_HEADERS_TIMEOUT_MS: intInRange(66_000, 1_000, 3_600_000),
    DEALIX_REQUEST_TIMEOUT_MS: intInRange(120_000, 1_000, 3_600_000),
    DEALIX_MASTER_KEY: optionalString.superRefine((value, ctx) => {
      if (value === undefined) return;
      try {
        parseMasterKey(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
    DEALIX_WORKER_CONCURRENCY: intInRange(4, 0, 64),
    DEALIX_APPROVAL_TOKEN_TTL_HOURS: intInRange(24, 1, 24 * 30),
    DEALIX_FLOW_RECOVERY_INTERVAL_MS: intInRange(60_000, 0, 24 * 60 * 60 * 1000),
    DEALIX_FAULT_POINT: z.preprocess((v) => (v === '' ? undefined : v), z.enum(Object.keys(FAULT_POINTS) as [FaultPoint, ...FaultPoint[]]).optional()),
    GREEN_API_INSTANCE_ID: optionalString,
    GREEN_API_TOKEN: optionalString,
    GREEN_API_URL: optionalUrl,
    GREEN_API_WEBHOOK_TOKEN: optionalString,
    ULTRAMSG_INSTANCE_ID: optionalString,
    ULTRAMSG_TOKEN: optionalString,
    ULTRAMSG_API_URL: optionalUrl,
    FONNTE_TOKEN: optionalString,
    FONNTE_API_URL: optionalUrl,
    FONNTE_WEBHOOK_SECRET: optionalString,
    WHATSAPP_API_TOKEN: optionalString,
    WHATSAPP_PHONE_NUMBER_ID: optionalString,
    WHATSAPP_API_URL: optionalUrl,
    WHATSAPP_API_VERSION: optionalString,
    WHATSAPP_APP_SECRET: optionalString,
    WHATSAPP_VERIFY_TOKEN: optionalString,
    WHATSAPP_PROVIDERS: z.preprocess(
      (value) => (typeof value === 'string' && value !== '' ? value.split(',').map((name) => name.trim()).filter(Boolean) : value === '' ? undefined : value),
      z
        .array(z.enum(WHATSAPP_PROVIDER_NAMES, { message: `must list providers among ${WHATSAPP_PROVIDER_NAMES.join(', ')}` }))
        .refine((names) => new Set(names).size === names.length, 'must not name a provider twice')
        .optional(),
    ),
    WHATSAPP_TIMEOUT_MS: intInRange(10_000, 100, 120_000),
    WHATSAPP_ALLOWED_API_HOSTS: z.preprocess(
      (value) => (typeof value === 'string' ? value.split(',').map((origin) => origin.trim()).filter(Boolean) : (value ?? [])),
      z.array(z.string()).transform((origins, ctx) =>
        origins.map((origin) => {
          const parsed = parseAllowedOrigin(origin);
          if (!parsed) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(origin)} is not an origin (http(s)://host[:port], nothing after it)` });
          return parsed ?? origin;
        }),
      ),
    ),
    OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
    OTEL_SERVICE_NAME: optionalString.default('dealix'),
  })
  .superRefine((env, ctx) => {
    if (env.DATABASE_URL && !env.DATABASE_APP_URL && !env.DEALIX_APP_DB_PASSWORD) {
      ctx.addIssue({
        code: 'custom',
        path: ['DATABASE_APP_URL'],
        message: 'with DATABASE_URL set, give DATABASE_APP_URL (role dealix_app) or DEALIX_APP_DB_PASSWORD so it can be derived',
      });
    }
    if (env.DATABASE_APP_URL && !env.DATABASE_URL) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'DATABASE_APP_URL needs DATABASE_URL (the owner connection that runs migrations)' });
    }
    if (env.DATABASE_URL && !env.DEALIX_JWT_SECRET && !env.DEALIX_JWKS_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['DEALIX_JWT_SECRET'],
        message: 'with an external DATABASE_URL, set DEALIX_JWT_SECRET (HS256) or DEALIX_JWKS_URL (OIDC): every instance must verify the same tokens',
      });
    }
    if (env.DATABASE_URL && !env.DEALIX_MASTER_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['DEALIX_MASTER_KEY'],
        message: 'with an external DATABASE_URL, set DEALIX_MASTER_KEY (32 bytes, base64 or hex): it seals the tenants\' signing keys',
      });
    }
    // Each provider's variables come as a set (SPEC §4): half a set is a mistake, not "unconfigured".
    const sets: Array<[string, (keyof typeof env)[], (keyof typeof env)[]]> = [
      ['Green API', ['GREEN_API_INSTANCE_ID', 'GREEN_API_TOKEN'], ['GREEN_API_URL', 'GREEN_API_WEBHOOK_TOKEN']],
      ['Ultramsg', ['ULTRAMSG_INSTANCE_ID', 'ULTRAMSG_TOKEN'], ['ULTRAMSG_API_URL']],
      ['Fonnte', ['FONNTE_TOKEN'], ['FONNTE_API_URL', 'FONNTE_WEBHOOK_SECRET']],
      ['Meta WhatsApp Cloud API', ['WHATSAPP_API_TOKEN', 'WHATSAPP_PHONE_NUMBER_ID'], ['WHATSAPP_API_URL', 'WHATSAPP_API_VERSION', 'WHATSAPP_APP_SECRET', 'WHATSAPP_VERIFY_TOKEN']],
    ];
    for (const [label, required, optional] of sets) {
      const given = [...required, ...optional].filter((key) => env[key] !== undefined);
      if (given.length === 0) continue;
      for (const key of required) {
        if (env[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${label}: ${given.join(', ')} set but ${key} missing` });
      }
    }
    // Where a Node version starts the headers timer as a keep-alive socket goes idle, a headers
    // timeout at or below the keep-alive one would close the idle socket first.
    if (env.DEALIX_HEADERS_TIMEOUT_MS <= env.DEALIX_KEEP_ALIVE_TIMEOUT_MS) {
      ctx.addIssue({ code: 'custom', path: ['DEALIX_HEADERS_TIMEOUT_MS'], message: 'must be greater than DEALIX_KEEP_ALIVE_TIMEOUT_MS' });
    }
    // Node refuses a headers timeout longer than the request timeout.
    if (env.DEALIX_REQUEST_TIMEOUT_MS < env.DEALIX_HEADERS_TIMEOUT_MS) {
      ctx.addIssue({ code: 'custom', path: ['DEALIX_REQUEST_TIMEOUT_MS'], message: 'must be at least DEALIX_HEADERS_TIMEOUT_MS' });
    }
    if (env.DEALIX_JWT_SECRET && env.DEALIX_JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['DEALIX_JWKS_URL'], message: 'set DEALIX_JWT_SECRET or DEALIX_JWKS_URL, not both' });
    }
  }, {
    // Run even when a variable already failed its own check: an operator fixes every problem in one pass.
    when: () => true,
  });

export type TEnv = z.infer<typeof ZEnv>;

export type DatabaseConfig =
  | { mode: 'embedded'; port: number; dataDir: string }
  | { mode: 'external'; ownerUrl: string; appUrl: string | undefined; appPassword: string | undefined };

export type JwtConfig =
  | { mode: 'hs256'; secret: string | undefined; issuer?: string; audience?: string }
  | { mode: 'jwks'; jwksUrl: string; issuer?: string; audience?: string };

export interface Config {
  env: TEnv['NODE_ENV'];
  port: number;
  host: string;
  logLevel: TEnv['LOG_LEVEL'];
  dataDir: string;
  database: DatabaseConfig;
  poolMax: number;
  appDbPassword: string | undefined;
  jwt: JwtConfig;
  tokenTtlHours: number;
  seedDemo: boolean;
  idempotencyTtlHours: number;
  /** How long a request waits for a row or key lock held by another request. */
  lockTimeoutMs: number;
  bodyLimitBytes: number;
  /** Node's HTTP server timeouts: keep-alive above the load balancer's idle timeout, headers above keep-alive. */
  http: HttpTimeouts;
  otel: { endpoint: string | undefined; serviceName: string };
  /** Seals per-tenant signing keys; embedded mode generates one when unset. */
  masterKey: Buffer | undefined;
  /** Flow worker slots in this process; 0 runs no worker (API only). */
  workerConcurrency: number;
  /** How often the worker looks for incomplete runs whose job is gone or dead; 0: only at start. */
  flowRecoveryIntervalMs: number;
  approvalTokenTtlHours: number;
  /** Crash tests only: kill the process at this named point of the flow engine. */
  faultPoint: FaultPoint | undefined;
  whatsapp: WhatsAppConfig;
}

/** Node's HTTP timeouts (DEALIX_KEEP_ALIVE_TIMEOUT_MS, DEALIX_HEADERS_TIMEOUT_MS, DEALIX_REQUEST_TIMEOUT_MS). */
export interface HttpTimeouts {
  /** How long an idle keep-alive socket stays open: longer than any load balancer's idle timeout in front of us. */
  keepAliveTimeoutMs: number;
  /** How long a client may take to send the request's headers. */
  headersTimeoutMs: number;
  /** How long a client may take to send the whole request. */
  requestTimeoutMs: number;
}

export interface WhatsAppConfig {
  /** The fallback order (WHATSAPP_PROVIDERS); undefined: the configured ones in SPEC order. */
  order: WhatsAppProviderName[] | undefined;
  /** Providers configured by the environment, for every tenant without its own credentials. */
  providers: Partial<EnvProviderAccounts>;
  timeoutMs: number;
  /**
   * Origins (WHATSAPP_ALLOWED_API_HOSTS) a tenant may point a provider's api_url at besides the
   * provider's documented hosts, http allowed; requests to them skip the private-address guard.
   */
  allowedApiOrigins: string[];
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Parses the environment into a {@link Config}, or throws a {@link ConfigError} naming every
 * bad variable at once, so an operator fixes them in one pass rather than one per restart.
 *
 * @example
 * const config = loadConfig(process.env);
 */
export function loadConfig(source: Record<string, string | undefined>): Config {
  const parsed = ZEnv.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`));
  }
  const env = parsed.data;
  const dataDir = path.resolve(env.DEALIX_DATA_DIR);
  const jwtCommon = {
    ...(env.DEALIX_JWT_ISSUER ? { issuer: env.DEALIX_JWT_ISSUER } : {}),
    ...(env.DEALIX_JWT_AUDIENCE ? { audience: env.DEALIX_JWT_AUDIENCE } : {}),
  };
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    dataDir,
    database: env.DATABASE_URL
      ? { mode: 'external', ownerUrl: env.DATABASE_URL, appUrl: env.DATABASE_APP_URL, appPassword: env.DEALIX_APP_DB_PASSWORD }
      : { mode: 'embedded', port: env.DEALIX_PG_PORT, dataDir: path.join(dataDir, 'pg') },
    poolMax: env.DEALIX_DB_POOL_MAX,
    appDbPassword: env.DEALIX_APP_DB_PASSWORD,
    jwt: env.DEALIX_JWKS_URL
      ? { mode: 'jwks', jwksUrl: env.DEALIX_JWKS_URL, ...jwtCommon }
      : { mode: 'hs256', secret: env.DEALIX_JWT_SECRET, ...jwtCommon },
    tokenTtlHours: env.DEALIX_TOKEN_TTL_HOURS,
    seedDemo: env.DEALIX_SEED_DEMO,
    idempotencyTtlHours: env.DEALIX_IDEMPOTENCY_TTL_HOURS,
    lockTimeoutMs: env.DEALIX_LOCK_TIMEOUT_MS,
    bodyLimitBytes: env.DEALIX_BODY_LIMIT_BYTES,
    http: { keepAliveTimeoutMs: env.DEALIX_KEEP_ALIVE_TIMEOUT_MS, headersTimeoutMs: env.DEALIX_HEADERS_TIMEOUT_MS, requestTimeoutMs: env.DEALIX_REQUEST_TIMEOUT_MS },
    otel: { endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: env.OTEL_SERVICE_NAME },
    masterKey: env.DEALIX_MASTER_KEY ? parseMasterKey(env.DEALIX_MASTER_KEY) : undefined,
    workerConcurrency: env.DEALIX_WORKER_CONCURRENCY,
    flowRecoveryIntervalMs: env.DEALIX_FLOW_RECOVERY_INTERVAL_MS,
    approvalTokenTtlHours: env.DEALIX_APPROVAL_TOKEN_TTL_HOURS,
    faultPoint: env.DEALIX_FAULT_POINT,
    whatsapp: {
      order: env.WHATSAPP_PROVIDERS,
      providers: whatsappProvidersFrom(env),
      timeoutMs: env.WHATSAPP_TIMEOUT_MS,
      allowedApiOrigins: env.WHATSAPP_ALLOWED_API_HOSTS,
    },
  };
}

const defined = <T extends Record<string, unknown>>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

function whatsappProvidersFrom(env: TEnv): Partial<EnvProviderAccounts> {
  const providers: Partial<EnvProviderAccounts> = {};
  if (env.GREEN_API_INSTANCE_ID && env.GREEN_API_TOKEN) {
    providers['green-api'] = defined({ instance_id: env.GREEN_API_INSTANCE_ID, token: env.GREEN_API_TOKEN, api_url: env.GREEN_API_URL, webhook_token: env.GREEN_API_WEBHOOK_TOKEN });
  }
  if (env.ULTRAMSG_INSTANCE_ID && env.ULTRAMSG_TOKEN) {
    providers.ultramsg = defined({ instance_id: env.ULTRAMSG_INSTANCE_ID, token: env.ULTRAMSG_TOKEN, api_url: env.ULTRAMSG_API_URL });
  }
  if (env.FONNTE_TOKEN) providers.fonnte = defined({ token: env.FONNTE_TOKEN, api_url: env.FONNTE_API_URL, webhook_secret: env.FONNTE_WEBHOOK_SECRET });
  if (env.WHATSAPP_API_TOKEN && env.WHATSAPP_PHONE_NUMBER_ID) {
    providers['meta-cloud'] = defined({
      access_token: env.WHATSAPP_API_TOKEN,
      phone_number_id: env.WHATSAPP_PHONE_NUMBER_ID,
      api_url: env.WHATSAPP_API_URL,
      api_version: env.WHATSAPP_API_VERSION,
      app_secret: env.WHATSAPP_APP_SECRET,
      verify_token: env.WHATSAPP_VERIFY_TOKEN,
    });
  }
  return providers;
}
