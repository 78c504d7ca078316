import { z } from '@hono/zod-openapi';
import { TEMPLATE_LANGUAGES } from '../deals/lifecycle.ts';
import { ZBusinessHours } from './business-hours.ts';
import { ZTemplateVariableValues } from './os-settings.store.ts';

const ZExpectedVersion = z
  .number()
  .int()
  .min(0)
  .optional()
  .openapi({ description: 'The version this edit is based on; a newer one in the meantime answers 409 instead of being overwritten' });

export const ZOsSettings = z
  .object({
    version: z.number().int().openapi({ description: '0 = the defaults, never edited' }),
    business_hours: ZBusinessHours,
    template_variables: ZTemplateVariableValues,
    updated_by: z.string().nullable(),
    updated_at: z.string().nullable(),
  })
  .openapi('OsSettings');

export const ZOsSettingsHistory = z.object({ items: z.array(ZOsSettings) }).openapi('OsSettingsHistory');

export const ZUpdateOsSettingsRequest = z
  .strictObject({
    business_hours: ZBusinessHours,
    template_variables: ZTemplateVariableValues.default({}),
    expected_version: ZExpectedVersion,
  })
  .openapi('UpdateOsSettingsRequest');
export type TUpdateOsSettingsRequest = z.infer<typeof ZUpdateOsSettingsRequest>;

export const ZTemplate = z
  .object({
    id: z.string(),
    purpose: z.string(),
    language: z.enum(TEMPLATE_LANGUAGES),
    text: z.string(),
    variables: z.array(z.string()),
    version: z.number().int().openapi({ description: '0 = the built-in text' }),
  })
  .openapi('ReplyTemplate');

export const ZTemplateList = z.object({ items: z.array(ZTemplate) }).openapi('ReplyTemplateList');

export const ZTemplateVersion = z
  .object({
    template_id: z.string(),
    version: z.number().int(),
    text: z.string(),
    variables: z.array(z.string()),
    note: z.string().nullable(),
    created_by: z.string().nullable(),
    created_at: z.string().nullable(),
  })
  .openapi('ReplyTemplateVersion');

export const ZTemplateHistory = z.object({ items: z.array(ZTemplateVersion) }).openapi('ReplyTemplateHistory');

export const ZTemplateIdParam = z.object({
  id: z.string().regex(/^[a-z_]+\.[a-z_]+\.(ar|en)$/, 'must be a template id such as price.plain.ar').openapi({ param: { name: 'id', in: 'path' }, example: 'price.plain.ar' }),
});

export const ZUpdateTemplateRequest = z
  .strictObject({
    // WhatsApp allows 4096 characters; a reply template is a few sentences.
    text: z.string().trim().min(1).max(1000),
    note: z.string().trim().max(500).optional().openapi({ description: 'Why it changed, kept with the version' }),
    expected_version: ZExpectedVersion,
  })
  .openapi('UpdateTemplateRequest');
export type TUpdateTemplateRequest = z.infer<typeof ZUpdateTemplateRequest>;
