import { createHash } from 'node:crypto';
import type net from 'node:net';
import { LRUCache } from 'lru-cache';
import type { WhatsAppConfig } from '../../config/config.ts';
import { TenantCache } from '../../tenancy/tenant-cache.ts';
import type { TenantTx } from '../../tenancy/with-tenant.ts';
import { configuredProviders, type ConfiguredProvider } from './credentials.store.ts';
import type { WhatsAppProvider } from './provider.ts';
import { createProvider } from './provider-settings.ts';
import { parseAllowedOrigin } from '../../config/whatsapp-env.ts';
import { createProviderEgress, type ProviderEgress } from './providers/egress.ts';
import {
  breakerState,
  createProviderAccount,
  createProviderChain,
  type CircuitState,
  type ProviderAccount,
  type ProviderChain,
  type ProviderChainOptions,
} from './send-smart.ts';

export interface WhatsAppService {
  readonly config: WhatsAppConfig;
  readonly masterKey: Buffer;
  /** The tenant's providers in fallback order (its own credentials over the environment's). */
  providersFor(tx: TenantTx, tenantId: string): Promise<ConfiguredProvider[]>;
  /** Drops the tenant's cached providers once `tx` (which changes its credentials) commits. */
  forgetProviders(tx: TenantTx, tenantId: string): void;
  /** The chain for these providers; undefined when there are none (the sandbox sends). */
  chainFor(providers: readonly ConfiguredProvider[]): ProviderChain | undefined;
  /** The breaker state of one provider account ('closed' when no send used it lately). */
  circuitState(provider: ConfiguredProvider): CircuitState;
  /** The cached breaker and limits of this provider's account, if any. */
  accountFor(provider: ConfiguredProvider): ProviderAccount | undefined;
  /** How many chains and accounts are cached (both bounded). */
  cacheSizes(): { chains: number; accounts: number; tenants: number };
  shutdown(): void;
}

export interface WhatsAppServiceOptions {
  config: WhatsAppConfig;
  masterKey: Buffer;
  chain?: Omit<ProviderChainOptions, 'providers' | 'accountOf'>;
  /** Bounds of the chain and account caches (default 1,000 each). */
  cacheLimits?: { chains?: number; accounts?: number };
  /** DNS for the private-address guard; tests pass one that answers what they need. */
  lookup?: net.LookupFunction;
}

const PROVIDERS_TTL_MS = 2_000;

const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);

/**
 * A provider account: the provider, the instance or sender, and a hash of the credential. The
 * same account is the same breaker and the same rate budget, whoever sends through it and
 * whatever api_url they reach it by.
 */
function accountKey(provider: ConfiguredProvider): string {
  const s = provider.settings as Record<string, string | undefined>;
  const sender = s.instance_id ?? s.phone_number_id ?? '';
  const credential = s.token ?? s.access_token ?? '';
  return `${provider.name}:${sender}:${sha(credential)}`;
}

/** A chain link: the adapter is built from every setting and the source (its egress rules differ). */
const linkKey = (provider: ConfiguredProvider) => `${provider.source}:${provider.name}:${sha(JSON.stringify(provider.settings))}`;

/**
 * Builds and caches fallback chains over bounded caches (lru-cache). A chain is cached per
 * ordered list of provider settings; breakers and rate-limit buckets belong to the provider
 * account (accountKey), shared by every chain that sends through it, so a Green API instance has
 * one 50/s budget and one health however many tenants and chains use it. An account evicted from
 * its cache has its breaker shut down; the next send starts a fresh one. All of it is per process.
 *
 * Tenants' own settings go through an egress that allows the documented hosts and the
 * operator's WHATSAPP_ALLOWED_API_HOSTS; the environment's settings also allow their own *_URL.
 *
 * @example
 * const service = createWhatsAppService({ config: config.whatsapp, masterKey });
 */
export function createWhatsAppService(options: WhatsAppServiceOptions): WhatsAppService {
  const { config } = options;
  const chainOptions = options.chain ?? {};
  const accounts = new LRUCache<string, ProviderAccount>({
    max: options.cacheLimits?.accounts ?? 1_000,
    dispose: (account) => account.shutdown(),
  });
  const chains = new LRUCache<string, ProviderChain>({ max: options.cacheLimits?.chains ?? 1_000 });
  // Read on every send, changed rarely: per tenant for PROVIDERS_TTL_MS; a credentials write in
  // this process forgets its tenant once it commits, other processes follow within the TTL.
  const providersCache = new TenantCache<ConfiguredProvider[]>({ max: 10_000, ttlMs: PROVIDERS_TTL_MS });

  const lookup = options.lookup ? { lookup: options.lookup } : {};
  const envOrigins = Object.values(config.providers).flatMap((settings) => {
    const origin = settings.api_url ? parseAllowedOrigin(new URL(settings.api_url).origin) : undefined;
    return origin ? [origin] : [];
  });
  const egress: Record<ConfiguredProvider['source'], ProviderEgress> = {
    tenant: createProviderEgress({ allowedOrigins: config.allowedApiOrigins, ...lookup }),
    environment: createProviderEgress({ allowedOrigins: [...config.allowedApiOrigins, ...envOrigins], ...lookup }),
  };

  function account(key: string, provider: WhatsAppProvider): ProviderAccount {
    let found = accounts.get(key);
    if (!found) {
      found = createProviderAccount(provider.name, chainOptions);
      accounts.set(key, found);
    }
    return found;
  }

  return {
    config,
    masterKey: options.masterKey,
    providersFor(tx, tenantId) {
      return providersCache.get(tenantId, () => configuredProviders({ tx, tenantId, masterKey: options.masterKey, whatsapp: config }));
    },
    forgetProviders(tx, tenantId) {
      providersCache.forgetAfterCommit(tx, (_providers, key) => key === tenantId);
    },
    chainFor(providers) {
      if (providers.length === 0) return undefined;
      const key = providers.map(linkKey).join('|');
      let chain = chains.get(key);
      if (!chain) {
        const accountKeys = new Map<WhatsAppProvider, string>();
        const adapters = providers.map((provider) => {
          const adapter = createProvider(provider.name, provider.settings as never, { timeoutMs: config.timeoutMs, egress: egress[provider.source] });
          accountKeys.set(adapter, accountKey(provider));
          return adapter;
        });
        chain = createProviderChain({
          ...chainOptions,
          providers: adapters,
          accountOf: (adapter) => account(accountKeys.get(adapter) as string, adapter),
        });
        chains.set(key, chain);
      }
      return chain;
    },
    circuitState(provider) {
      const found = accounts.peek(accountKey(provider));
      return found ? breakerState(found.breaker) : 'closed';
    },
    accountFor(provider) {
      return accounts.peek(accountKey(provider));
    },
    cacheSizes() {
      return { chains: chains.size, accounts: accounts.size, tenants: providersCache.size };
    },
    shutdown() {
      chains.clear();
      // clear() disposes every account: their breakers shut down.
      accounts.clear();
    },
  };
}
