import { eq } from 'drizzle-orm';
import type { WhatsAppConfig } from '../../config/config.ts';
import { openSecret, sealSecret } from '../../crypto/envelope.ts';
import { whatsappCredentials } from '../../db/schema.ts';
import type { TenantTx } from '../../tenancy/with-tenant.ts';
import { REAL_PROVIDER_NAMES, type RealProviderName } from './provider.ts';
import { PROVIDER_SETTINGS, type AnyProviderSettings, type ProviderSettings } from './provider-settings.ts';

/** The associated data binding a sealed credential to its tenant and provider. */
const aad = (tenantId: string, provider: RealProviderName) => `whatsapp:${tenantId}:${provider}`;

export interface ConfiguredProvider {
  name: RealProviderName;
  settings: AnyProviderSettings;
  /** Where the credentials come from: the tenant's own (PUT /whatsapp/providers/{name}) win over the environment's. */
  source: 'tenant' | 'environment';
  /** 1-based place in the fallback chain. */
  position: number;
}

/**
 * The tenant's providers in fallback order: WHATSAPP_PROVIDERS when set (names without
 * credentials are skipped), else every configured one in SPEC §4's order. Empty: the sandbox.
 *
 * @example
 * const providers = await configuredProviders({ tx, tenantId, masterKey, whatsapp: config.whatsapp });
 */
export async function configuredProviders(options: { tx: TenantTx; tenantId: string; masterKey: Buffer; whatsapp: WhatsAppConfig }): Promise<ConfiguredProvider[]> {
  const { tx, tenantId, masterKey, whatsapp } = options;
  const rows = await tx.select({ provider: whatsappCredentials.provider, sealed: whatsappCredentials.sealed }).from(whatsappCredentials);
  const own = new Map<RealProviderName, AnyProviderSettings>();
  for (const row of rows) {
    const name = row.provider as RealProviderName;
    // Parsed again on the way out: a row sealed by an older version must still be valid settings.
    own.set(name, PROVIDER_SETTINGS[name].parse(JSON.parse(openSecret(masterKey, row.sealed, aad(tenantId, name)).toString('utf8'))));
  }
  const order = whatsapp.order ?? [...REAL_PROVIDER_NAMES];
  const configured: ConfiguredProvider[] = [];
  for (const name of order) {
    const tenantSettings = own.get(name);
    const envSettings = whatsapp.providers[name];
    if (tenantSettings) configured.push({ name, settings: tenantSettings, source: 'tenant', position: configured.length + 1 });
    else if (envSettings) configured.push({ name, settings: envSettings, source: 'environment', position: configured.length + 1 });
  }
  return configured;
}

/** Stores (or replaces) the tenant's credentials for one provider, sealed. */
export async function saveProviderCredentials<P extends RealProviderName>(options: {
  tx: TenantTx;
  tenantId: string;
  masterKey: Buffer;
  provider: P;
  settings: ProviderSettings[P];
  actor: string;
}): Promise<{ updatedAt: Date }> {
  const { tx, tenantId, masterKey, provider } = options;
  const sealed = sealSecret(masterKey, JSON.stringify(options.settings), aad(tenantId, provider));
  const [row] = await tx
    .insert(whatsappCredentials)
    .values({ provider, sealed, updatedBy: options.actor })
    .onConflictDoUpdate({ target: [whatsappCredentials.tenantId, whatsappCredentials.provider], set: { sealed, updatedBy: options.actor, updatedAt: new Date() } })
    .returning({ updatedAt: whatsappCredentials.updatedAt });
  if (!row) throw new Error('upsert returned nothing');
  return row;
}

/** Removes the tenant's own credentials for a provider (the environment's, if any, apply again). */
export async function deleteProviderCredentials(options: { tx: TenantTx; provider: RealProviderName }): Promise<boolean> {
  const deleted = await options.tx.delete(whatsappCredentials).where(eq(whatsappCredentials.provider, options.provider)).returning({ provider: whatsappCredentials.provider });
  return deleted.length > 0;
}

/** Who set the tenant's credentials and when, per provider; never the values. */
export async function credentialsMetadata(tx: TenantTx): Promise<Map<RealProviderName, { updatedBy: string; updatedAt: Date }>> {
  const rows = await tx
    .select({ provider: whatsappCredentials.provider, updatedBy: whatsappCredentials.updatedBy, updatedAt: whatsappCredentials.updatedAt })
    .from(whatsappCredentials);
  return new Map(rows.map((row) => [row.provider as RealProviderName, { updatedBy: row.updatedBy, updatedAt: row.updatedAt }]));
}
