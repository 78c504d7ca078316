import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TUpdateOsSettingsRequest } from './os-settings.schemas.ts';
import { currentOsSettings, forgetLifecycleConfig, insertOsSettingsVersion, type OsSettings } from './os-settings.store.ts';

export interface UpdateOsSettingsOptions {
  tx: TenantTx;
  tenantId: string;
  input: TUpdateOsSettingsRequest;
  actor: string;
}

/**
 * Replaces the tenant's business hours and template variables with a new version. Earlier
 * versions stay (GET /os/settings/history). Replies already scheduled keep their time; a
 * timed reply re-checks the hours in force when it wakes.
 */
export async function updateOsSettings(options: UpdateOsSettingsOptions): Promise<OsSettings> {
  const { tx, input } = options;
  const current = await currentOsSettings(tx);
  if (input.expected_version !== undefined && input.expected_version !== current.version) {
    throw new AppError('conflict', `The settings are at version ${current.version}, not ${input.expected_version}; reload and edit again`);
  }
  forgetLifecycleConfig(tx, options.tenantId);
  return insertOsSettingsVersion(tx, {
    version: current.version + 1,
    businessHours: input.business_hours,
    templateVariables: input.template_variables,
    createdBy: options.actor,
  });
}
