import { createHash } from 'node:crypto';
import type { WhatsAppConfig } from '../config/config.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { configuredProviders, type ConfiguredProvider } from './credentials.store.ts';
import { createProvider } from './provider-settings.ts';
import { createProviderChain, type CircuitState, type ProviderChain, type ProviderChainOptions } from './send-smart.ts';

export interface WhatsAppService {
  readonly config: WhatsAppConfig;
  readonly masterKey: Buffer;
  /** The tenant's providers in fallback order (its own credentials over the environment's). */
  providersFor(tx: TenantTx, tenantId: string): Promise<ConfiguredProvider[]>;
  /** Drops the tenant's cached providers (after its credentials change). */
  forgetProviders(tenantId: string): void;
  /** The chain for these providers; undefined when there are none (the sandbox sends). */
  chainFor(providers: readonly ConfiguredProvider[]): ProviderChain | undefined;
  /** The breaker of one provider account, when a chain using it exists in this process. */
  circuitState(provider: ConfiguredProvider): CircuitState;
  shutdown(): void;
}

const PROVIDERS_TTL_MS = 2_000;

/** Identifies a provider account: the same credentials are the same account, whoever uses them. */
const accountKey = (provider: ConfiguredProvider) =>
  `${provider.name}:${createHash('sha256').update(JSON.stringify(provider.settings)).digest('hex').slice(0, 32)}`;

/**
 * Builds and caches fallback chains. A chain is cached per ordered list of provider
 * accounts, so tenants on the environment's providers share one chain: one breaker and one
 * rate limit per account (Green API's 50 requests/s is per instance, not per tenant). A tenant
 * with its own credentials gets its own chain, whose breakers and buckets are its own too, even
 * for an environment account it also uses; a credential change is a new key. All of it is per
 * process: several processes each keep their own breakers and buckets.
 *
 * @example
 * const service = createWhatsAppService({ config: config.whatsapp, masterKey });
 */
export function createWhatsAppService(options: {
  config: WhatsAppConfig;
  masterKey: Buffer;
  chain?: Omit<ProviderChainOptions, 'providers'>;
}): WhatsAppService {
  const chains = new Map<string, ProviderChain>();
  // Read on every send, changed rarely: per tenant for PROVIDERS_TTL_MS; a credentials write in
  // this process forgets its tenant at once, other processes follow within the TTL.
  const providersCache = new Map<string, { providers: ConfiguredProvider[]; until: number }>();
  const breakerOwner = new Map<string, ProviderChain>();
  return {
    config: options.config,
    masterKey: options.masterKey,
    async providersFor(tx, tenantId) {
      const cached = providersCache.get(tenantId);
      const now = Date.now();
      if (cached && cached.until > now) return cached.providers;
      const providers = await configuredProviders({ tx, tenantId, masterKey: options.masterKey, whatsapp: options.config });
      providersCache.set(tenantId, { providers, until: now + PROVIDERS_TTL_MS });
      return providers;
    },
    forgetProviders(tenantId) {
      providersCache.delete(tenantId);
    },
    chainFor(providers) {
      if (providers.length === 0) return undefined;
      const key = providers.map(accountKey).join('|');
      let chain = chains.get(key);
      if (!chain) {
        chain = createProviderChain({
          ...options.chain,
          providers: providers.map((provider) => createProvider(provider.name, provider.settings as never, options.config.timeoutMs)),
        });
        chains.set(key, chain);
        for (const provider of providers) if (!breakerOwner.has(accountKey(provider))) breakerOwner.set(accountKey(provider), chain);
      }
      return chain;
    },
    circuitState(provider) {
      return breakerOwner.get(accountKey(provider))?.circuitState(provider.name) ?? 'closed';
    },
    shutdown() {
      for (const chain of chains.values()) chain.shutdown();
      chains.clear();
      breakerOwner.clear();
    },
  };
}
