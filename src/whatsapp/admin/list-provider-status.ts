import { sql } from 'drizzle-orm';
import type { TenantTx } from '../../tenancy/with-tenant.ts';
import { credentialsMetadata } from '../outbound/credentials.store.ts';
import { REAL_PROVIDER_NAMES, type RealProviderName } from '../outbound/provider.ts';
import type { CircuitState } from '../outbound/send-smart.ts';
import type { WhatsAppService } from '../outbound/whatsapp-service.ts';

export interface ProviderStatus {
  name: RealProviderName | 'sandbox';
  configured: boolean;
  source: 'tenant' | 'environment' | null;
  /** 1-based place in the fallback chain; null when not in it. */
  position: number | null;
  circuit: CircuitState | null;
  credentials_updated_at: string | null;
  credentials_updated_by: string | null;
  last_success_at: string | null;
  last_error: { at: string; code: string | null; reason: string | null } | null;
  /** Over the last 24 hours: calls that got an answer or a transport error (skips are not calls). */
  calls_24h: number;
  error_rate_24h: number | null;
  p50_latency_ms: number | null;
}

type StatsRow = { provider: string; calls: number; errors: number; p50: number | null };
type LastRow = { provider: string; at: Date; code: string | null; reason: string | null };

export interface ListProviderStatusOptions {
  tx: TenantTx;
  tenantId: string;
  whatsapp: WhatsAppService;
}

/**
 * GET /os/whatsapp-providers: each provider's place in the tenant's chain, its breaker and its
 * recent record, from the attempts table (so every process and restart agrees). Never a secret.
 */
export async function listProviderStatus(options: ListProviderStatusOptions): Promise<{ data: ProviderStatus[] }> {
  const { tx, tenantId, whatsapp } = options;
  const configured = await whatsapp.providersFor(tx, tenantId);
  const metadata = await credentialsMetadata(tx);
  const stats = await tx.execute<StatsRow>(sql`
    SELECT provider,
           count(*)::int AS calls,
           (count(*) FILTER (WHERE outcome IN ('transient', 'permanent')))::int AS errors,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50
      FROM whatsapp_send_attempts
     WHERE started_at > now() - interval '24 hours' AND outcome IN ('accepted', 'transient', 'permanent')
     GROUP BY provider`);
  const successes = await tx.execute<LastRow>(sql`
    SELECT DISTINCT ON (provider) provider, coalesce(finished_at, started_at) AS at, code, reason
      FROM whatsapp_send_attempts WHERE outcome = 'accepted' ORDER BY provider, started_at DESC`);
  const errors = await tx.execute<LastRow>(sql`
    SELECT DISTINCT ON (provider) provider, coalesce(finished_at, started_at) AS at, code, reason
      FROM whatsapp_send_attempts WHERE outcome IN ('transient', 'permanent') ORDER BY provider, started_at DESC`);
  const byProvider = <T extends { provider: string }>(rows: T[]) => new Map(rows.map((row) => [row.provider, row]));
  const statsOf = byProvider(stats.rows);
  const successOf = byProvider(successes.rows);
  const errorOf = byProvider(errors.rows);
  const iso = (value: Date | string) => new Date(value).toISOString();

  const data: ProviderStatus[] = REAL_PROVIDER_NAMES.map((name) => {
    const inChain = configured.find((provider) => provider.name === name);
    const stat = statsOf.get(name);
    const success = successOf.get(name);
    const error = errorOf.get(name);
    const meta = metadata.get(name);
    return {
      name,
      configured: inChain !== undefined,
      source: inChain?.source ?? null,
      position: inChain?.position ?? null,
      circuit: inChain ? whatsapp.circuitState(inChain) : null,
      credentials_updated_at: meta ? meta.updatedAt.toISOString() : null,
      credentials_updated_by: meta?.updatedBy ?? null,
      last_success_at: success ? iso(success.at) : null,
      last_error: error ? { at: iso(error.at), code: error.code, reason: error.reason } : null,
      calls_24h: stat?.calls ?? 0,
      error_rate_24h: stat && stat.calls > 0 ? Math.round((stat.errors / stat.calls) * 1000) / 1000 : null,
      p50_latency_ms: stat?.p50 === null || stat?.p50 === undefined ? null : Math.round(Number(stat.p50)),
    };
  });
  // The sandbox answers when no real provider is configured (SPEC §4: the product runs offline).
  data.push({
    name: 'sandbox',
    configured: configured.length === 0,
    source: null,
    position: configured.length === 0 ? 1 : null,
    circuit: null,
    credentials_updated_at: null,
    credentials_updated_by: null,
    last_success_at: null,
    last_error: null,
    calls_24h: 0,
    error_rate_24h: null,
    p50_latency_ms: null,
  });
  return { data };
}
