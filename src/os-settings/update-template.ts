import { desc, eq } from 'drizzle-orm';
import { templateVersions } from '../db/schema.ts';
import { REPLY_TEMPLATES, TEMPLATE_VARIABLES, templateVariables } from '../deals/lifecycle.ts';
import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TUpdateTemplateRequest } from './os-settings.schemas.ts';
import { forgetLifecycleConfig, insertTemplateVersion, type TemplateVersion } from './os-settings.store.ts';

export interface UpdateTemplateOptions {
  tx: TenantTx;
  tenantId: string;
  templateId: string;
  input: TUpdateTemplateRequest;
  actor: string;
}

/**
 * A tenant's edit of a reply template: a new version, the old ones kept. Only the variables
 * the lifecycle can fill are allowed, so a typo (`{{nmae}}`) is refused here instead of
 * turning every later reply into a draft. A send already approved keeps the version it was
 * approved with (the payload names it).
 */
export async function updateTemplate(options: UpdateTemplateOptions): Promise<TemplateVersion> {
  const { tx, templateId, input } = options;
  const builtIn = REPLY_TEMPLATES.find((candidate) => candidate.id === templateId);
  if (!builtIn) throw new AppError('not_found', `Template ${templateId} does not exist`);
  const unknown = templateVariables(input.text).filter((name) => !(name in TEMPLATE_VARIABLES));
  const malformed = /\{\{(?!\s*[a-z_]+\s*\}\})/.test(input.text);
  if (unknown.length > 0 || malformed) {
    const known = Object.keys(TEMPLATE_VARIABLES).map((name) => `{{${name}}}`).join(', ');
    const message = unknown.length > 0 ? `unknown variable ${unknown.map((name) => `{{${name}}}`).join(', ')}; use ${known}` : `a placeholder is not closed; use ${known}`;
    throw new AppError('validation_failed', 'The template text is not valid', { errors: [{ field: 'text', message }] });
  }
  const [latest] = await tx
    .select({ version: templateVersions.version })
    .from(templateVersions)
    .where(eq(templateVersions.templateId, templateId))
    .orderBy(desc(templateVersions.version))
    .limit(1);
  const current = latest?.version ?? 0;
  if (input.expected_version !== undefined && input.expected_version !== current) {
    throw new AppError('conflict', `Template ${templateId} is at version ${current}, not ${input.expected_version}; reload and edit again`);
  }
  forgetLifecycleConfig(tx, options.tenantId);
  return insertTemplateVersion(tx, { templateId, version: current + 1, text: input.text, note: input.note ?? null, createdBy: options.actor });
}
