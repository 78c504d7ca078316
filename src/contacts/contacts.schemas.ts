import { z } from '@hono/zod-openapi';
import { ZPageMeta, ZPageQuery } from '../http/pagination.ts';
import { toE164 } from './phone.ts';

export const ZPhone = z
  .string({ message: 'is required' })
  .max(32, 'is too long')
  .transform((value, ctx) => {
    const e164 = toE164(value);
    if (!e164) {
      ctx.addIssue({ code: 'custom', message: 'is not a valid phone number (use +9665XXXXXXXX or 05XXXXXXXX)' });
      return z.NEVER;
    }
    return e164;
  })
  .openapi({ example: '0551234567', description: 'Any common format; stored as E.164 (Saudi local numbers are read as +966).' });

const ZLanguage = z.enum(['ar', 'en'], { message: "must be 'ar' or 'en'" });
export const ZName = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

export const ZContact = z
  .object({
    id: z.uuid(),
    phone: z.string().openapi({ example: '+966551234567' }),
    name: z.string().nullable(),
    company: z.string().nullable(),
    email: z.string().nullable(),
    preferred_language: ZLanguage,
    owner_user_id: z.uuid().nullable(),
    created_at: z.string().openapi({ format: 'date-time' }),
    updated_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Contact');
export type TContact = z.infer<typeof ZContact>;

export const ZCreateContactRequest = z
  .strictObject({
    phone: ZPhone,
    name: ZName.optional(),
    company: ZName.optional(),
    email: z.email({ message: 'must be an email address' }).max(254).optional(),
    preferred_language: ZLanguage.default('ar'),
    owner_user_id: z.uuid({ message: 'must be a UUID' }).optional(),
  })
  .openapi('CreateContactRequest');
export type TCreateContactRequest = z.infer<typeof ZCreateContactRequest>;

export const ZUpdateContactRequest = z
  .strictObject({
    phone: ZPhone.optional(),
    name: ZName.nullable().optional(),
    company: ZName.nullable().optional(),
    email: z.email({ message: 'must be an email address' }).max(254).nullable().optional(),
    preferred_language: ZLanguage.optional(),
    owner_user_id: z.uuid({ message: 'must be a UUID' }).nullable().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'must change at least one field' })
  .openapi('UpdateContactRequest');
export type TUpdateContactRequest = z.infer<typeof ZUpdateContactRequest>;

export const ZListContactsQuery = z.object({
  ...ZPageQuery,
  owner_user_id: z.uuid({ message: 'must be a UUID' }).optional().openapi({ param: { name: 'owner_user_id', in: 'query' } }),
  phone: z.string().optional().openapi({ param: { name: 'phone', in: 'query' }, description: 'Exact phone, any format' }),
});
export type TListContactsQuery = z.infer<typeof ZListContactsQuery>;

export const ZContactPage = z.object({ data: z.array(ZContact), ...ZPageMeta }).openapi('ContactPage');
