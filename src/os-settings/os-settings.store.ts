import { and, desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { osSettingsVersions, templateVersions } from '../db/schema.ts';
import { REPLY_TEMPLATES, templateVariables, type ReplyTemplate } from '../deals/lifecycle.ts';
import { TenantCache } from '../tenancy/tenant-cache.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { DEFAULT_BUSINESS_HOURS, ZBusinessHours, type BusinessHours } from './business-hours.ts';

/** Tenant values for the template variables that are not about the contact. */
export const ZTemplateVariableValues = z.strictObject({
  price_range: z.string().trim().min(1).max(100).optional(),
  meeting_link: z.url({ protocol: /^https$/, message: 'must be an https URL' }).max(500).optional(),
});
export type TemplateVariableValues = z.infer<typeof ZTemplateVariableValues>;

export interface OsSettings {
  /** 0 when the tenant never changed anything (the defaults). */
  version: number;
  business_hours: BusinessHours;
  template_variables: TemplateVariableValues;
  updated_by: string | null;
  updated_at: string | null;
}

export const DEFAULT_OS_SETTINGS: OsSettings = { version: 0, business_hours: DEFAULT_BUSINESS_HOURS, template_variables: {}, updated_by: null, updated_at: null };

type SettingsRow = typeof osSettingsVersions.$inferSelect;
type TemplateRow = typeof templateVersions.$inferSelect;

function toSettings(row: Pick<SettingsRow, 'version' | 'businessHours' | 'templateVariables' | 'createdBy'> & { createdAt: Date | string }): OsSettings {
  return {
    version: row.version,
    // JSON columns are parsed on the way out too: a row written by an older version must still be valid.
    business_hours: ZBusinessHours.parse(row.businessHours),
    template_variables: ZTemplateVariableValues.parse(row.templateVariables),
    updated_by: row.createdBy,
    updated_at: new Date(row.createdAt).toISOString(),
  };
}

/** The tenant's settings in use: its highest version, or the defaults. */
export async function currentOsSettings(tx: TenantTx): Promise<OsSettings> {
  const [row] = await tx.select().from(osSettingsVersions).orderBy(desc(osSettingsVersions.version)).limit(1);
  return row ? toSettings(row) : DEFAULT_OS_SETTINGS;
}

/** Every settings version, newest first. */
export async function osSettingsHistory(tx: TenantTx): Promise<OsSettings[]> {
  const rows = await tx.select().from(osSettingsVersions).orderBy(desc(osSettingsVersions.version));
  return rows.map(toSettings);
}

/**
 * Adds a settings version. The primary key (tenant, version) makes two concurrent edits of
 * the same version collide: the second fails with a unique violation (409), never a silent overwrite.
 */
export async function insertOsSettingsVersion(
  tx: TenantTx,
  values: { version: number; businessHours: BusinessHours; templateVariables: TemplateVariableValues; createdBy: string },
): Promise<OsSettings> {
  const [row] = await tx.insert(osSettingsVersions).values(values).returning();
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return toSettings(row);
}

/** A tenant template row as a catalogue entry (purpose and language come from the built-in id). */
function toTemplate(builtIn: ReplyTemplate, row: Pick<TemplateRow, 'version' | 'text'>): ReplyTemplate {
  return { ...builtIn, text: row.text, variables: templateVariables(row.text), version: row.version };
}

/**
 * The catalogue in use for this tenant: every built-in template, replaced by the tenant's
 * highest version where it edited one. Catalogue order is kept (it decides variant order).
 */
export function mergeCatalogue(edits: ReadonlyArray<Pick<TemplateRow, 'templateId' | 'version' | 'text'>>): ReplyTemplate[] {
  if (edits.length === 0) return REPLY_TEMPLATES as ReplyTemplate[];
  const byId = new Map(edits.map((edit) => [edit.templateId, edit]));
  return REPLY_TEMPLATES.map((builtIn) => {
    const edit = byId.get(builtIn.id);
    return edit ? toTemplate(builtIn, edit) : builtIn;
  });
}

/** What the lifecycle needs per decision, read in ONE round trip: the settings and the catalogue. */
export interface LifecycleConfig {
  settings: OsSettings;
  templates: ReplyTemplate[];
}

/**
 * Read on every decision, changed rarely: kept per tenant for 2 s in this process. An edit
 * through this process drops its tenant's entry once it commits; other processes see it within
 * the TTL. A reply records the template version it used, so which text went out stays exact.
 */
const configCache = new TenantCache<LifecycleConfig>({ max: 10_000, ttlMs: 2_000 });

/** Forgets a tenant's cached settings and templates once `tx` commits (called by every write of them). */
export function forgetLifecycleConfig(tx: TenantTx, tenantId: string): void {
  configCache.forgetAfterCommit(tx, (_config, key) => key === tenantId);
}

/**
 * The tenant's lifecycle settings and template catalogue, from the cache when fresh (give the
 * tenant id) or from the database.
 *
 * @example
 * const { settings, templates } = await loadLifecycleConfig(tx, tenantId);
 */
export async function loadLifecycleConfig(tx: TenantTx, tenantId?: string): Promise<LifecycleConfig> {
  if (tenantId === undefined) return readLifecycleConfig(tx);
  return configCache.get(tenantId, () => readLifecycleConfig(tx));
}

async function readLifecycleConfig(tx: TenantTx): Promise<LifecycleConfig> {
  const result = await tx.execute<{ settings: SettingsJson | null; edits: EditJson[] }>(sql`
    SELECT
      (SELECT json_build_object('version', version, 'businessHours', business_hours, 'templateVariables', template_variables,
                                'createdBy', created_by, 'createdAt', created_at)
         FROM os_settings_versions ORDER BY version DESC LIMIT 1) AS settings,
      (SELECT coalesce(json_agg(json_build_object('templateId', template_id, 'version', version, 'text', text)), '[]'::json)
         FROM (SELECT DISTINCT ON (template_id) template_id, version, text FROM template_versions ORDER BY template_id, version DESC) latest) AS edits`);
  const row = result.rows[0];
  return { settings: row?.settings ? toSettings(row.settings) : DEFAULT_OS_SETTINGS, templates: mergeCatalogue(row?.edits ?? []) };
}
type SettingsJson = Pick<SettingsRow, 'version' | 'businessHours' | 'templateVariables' | 'createdBy'> & { createdAt: string };
type EditJson = Pick<TemplateRow, 'templateId' | 'version' | 'text'>;

export interface TemplateVersion {
  template_id: string;
  version: number;
  text: string;
  variables: string[];
  note: string | null;
  created_by: string | null;
  created_at: string | null;
}

function toVersion(row: TemplateRow): TemplateVersion {
  return {
    template_id: row.templateId,
    version: row.version,
    text: row.text,
    variables: [...row.variables],
    note: row.note,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
  };
}

/** Every version of one template, newest first, ending with the built-in text (version 0). */
export async function templateHistory(tx: TenantTx, builtIn: ReplyTemplate): Promise<TemplateVersion[]> {
  const rows = await tx.select().from(templateVersions).where(eq(templateVersions.templateId, builtIn.id)).orderBy(desc(templateVersions.version));
  return [
    ...rows.map(toVersion),
    { template_id: builtIn.id, version: 0, text: builtIn.text, variables: [...builtIn.variables], note: 'built-in', created_by: null, created_at: null },
  ];
}

/** One exact version of a template for this tenant (0: the built-in), or undefined. */
export async function findTemplateVersion(tx: TenantTx, templateId: string, version: number): Promise<ReplyTemplate | undefined> {
  const builtIn = REPLY_TEMPLATES.find((candidate) => candidate.id === templateId);
  if (!builtIn) return undefined;
  if (version === 0) return builtIn;
  const [row] = await tx
    .select({ version: templateVersions.version, text: templateVersions.text })
    .from(templateVersions)
    .where(and(eq(templateVersions.templateId, templateId), eq(templateVersions.version, version)));
  return row ? toTemplate(builtIn, row) : undefined;
}

/** Appends a version; the primary key refuses a second writer of the same version (409). */
export async function insertTemplateVersion(
  tx: TenantTx,
  values: { templateId: string; version: number; text: string; note: string | null; createdBy: string },
): Promise<TemplateVersion> {
  const [row] = await tx
    .insert(templateVersions)
    .values({ ...values, variables: templateVariables(values.text) })
    .returning();
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return toVersion(row);
}
