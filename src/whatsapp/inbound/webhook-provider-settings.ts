import { AppError } from '../../http/app-error.ts';
import type { TenantTx } from '../../tenancy/with-tenant.ts';
import type { ProviderSettings } from '../outbound/provider-settings.ts';
import type { RealProviderName } from '../outbound/provider.ts';
import type { WhatsAppService } from '../outbound/whatsapp-service.ts';

/** The tenant's settings for this provider (its own credentials over the environment's). */
export async function providerSettings<P extends RealProviderName>(tx: TenantTx, whatsapp: WhatsAppService, tenantId: string, provider: P): Promise<ProviderSettings[P]> {
  const configured = (await whatsapp.providersFor(tx, tenantId)).find((candidate) => candidate.name === provider);
  // A provider the tenant does not use has no webhook to receive: as unknown as a wrong path.
  if (!configured) throw new AppError('not_found', `No ${provider} webhook: the provider is not configured`);
  return configured.settings as ProviderSettings[P];
}
