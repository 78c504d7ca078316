import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  date,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { ROLE_VALUES } from '../auth/roles.ts';
import { DEAL_STAGE_VALUES } from '../deals/deal-stages.ts';
import { uuidv7 } from './uuid-v7.ts';

/**
 * Tables. Row-level security, roles and grants live in the custom SQL migrations under
 * drizzle/ because drizzle-kit does not express FORCE ROW LEVEL SECURITY or GRANTs.
 *
 * Every tenant-scoped row defaults its tenant_id from the transaction's `app.tenant_id`,
 * so code cannot forget it, and the RLS WITH CHECK refuses any other value.
 */
const currentTenant = sql`NULLIF(current_setting('app.tenant_id', true), '')::uuid`;
const tenantId = () => uuid('tenant_id').notNull().default(currentTenant);
const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
const sqlList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

export const tenants = pgTable(
  'tenants',
  {
    id: uuid('id').primaryKey().defaultRandom().$defaultFn(uuidv7),
    slug: text('slug').notNull().unique('tenants__slug__key'),
    name: text('name').notNull(),
    createdAt: createdAt(),
  },
  (t) => [check('tenants__slug__check', sql`${t.slug} ~ '^[a-z0-9][a-z0-9-]{1,62}$'`)],
);

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom().$defaultFn(uuidv7),
    tenantId: tenantId(),
    email: text('email').notNull(),
    displayName: text('display_name').notNull(),
    roles: text('roles').array().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'users__tenant_id__fk' }).onDelete('cascade'),
    unique('users__tenant_email__key').on(t.tenantId, t.email),
    unique('users__tenant_id_id__key').on(t.tenantId, t.id),
    check('users__roles__check', sql`cardinality(${t.roles}) > 0 AND ${t.roles} <@ ARRAY[${sqlList(ROLE_VALUES)}]::text[]`),
  ],
);

export const contacts = pgTable(
  'contacts',
  {
    id: uuid('id').primaryKey().defaultRandom().$defaultFn(uuidv7),
    tenantId: tenantId(),
    phoneE164: text('phone_e164').notNull(),
    name: text('name'),
    company: text('company'),
    email: text('email'),
    preferredLanguage: text('preferred_language').notNull().default('ar'),
    ownerUserId: uuid('owner_user_id'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'contacts__tenant_id__fk' }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.ownerUserId], foreignColumns: [users.tenantId, users.id], name: 'contacts__owner_user_id__fk' }),
    unique('contacts__tenant_phone__key').on(t.tenantId, t.phoneE164),
    unique('contacts__tenant_id_id__key').on(t.tenantId, t.id),
    check('contacts__phone_e164__check', sql`${t.phoneE164} ~ '^\\+[1-9][0-9]{6,14}$'`),
    check('contacts__preferred_language__check', sql`${t.preferredLanguage} IN ('ar', 'en')`),
  ],
);

export const deals = pgTable(
  'deals',
  {
    id: uuid('id').primaryKey().defaultRandom().$defaultFn(uuidv7),
    tenantId: tenantId(),
    contactId: uuid('contact_id').notNull(),
    title: text('title').notNull(),
    stage: text('stage').notNull().default('new_lead'),
    valueHalalas: bigint('value_halalas', { mode: 'number' }).notNull().default(0),
    ownerUserId: uuid('owner_user_id'),
    expectedCloseDate: date('expected_close_date', { mode: 'string' }),
    stageChangedAt: timestamp('stage_changed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'deals__tenant_id__fk' }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.contactId], foreignColumns: [contacts.tenantId, contacts.id], name: 'deals__contact_id__fk' }),
    foreignKey({ columns: [t.tenantId, t.ownerUserId], foreignColumns: [users.tenantId, users.id], name: 'deals__owner_user_id__fk' }),
    unique('deals__tenant_id_id__key').on(t.tenantId, t.id),
    check('deals__stage__check', sql`${t.stage} IN (${sqlList(DEAL_STAGE_VALUES)})`),
    check('deals__value_halalas__check', sql`${t.valueHalalas} >= 0`),
    index('deals__tenant_id_idx').on(t.tenantId, t.id.desc()),
    index('deals__tenant_stage_idx').on(t.tenantId, t.stage, t.id.desc()),
    index('deals__tenant_owner_idx').on(t.tenantId, t.ownerUserId, t.id.desc()),
    index('deals__tenant_contact_idx').on(t.tenantId, t.contactId),
  ],
);

export const activities = pgTable(
  'activities',
  {
    id: uuid('id').primaryKey().defaultRandom().$defaultFn(uuidv7),
    tenantId: tenantId(),
    dealId: uuid('deal_id').notNull(),
    type: text('type').notNull(),
    actor: text('actor').notNull(),
    data: jsonb('data').notNull().default({}),
    correlationId: text('correlation_id'),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'activities__tenant_id__fk' }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.dealId], foreignColumns: [deals.tenantId, deals.id], name: 'activities__deal_id__fk' }).onDelete(
      'cascade',
    ),
    index('activities__tenant_deal_idx').on(t.tenantId, t.dealId, t.id.desc()),
  ],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    tenantId: tenantId(),
    key: text('key').notNull(),
    fingerprint: text('fingerprint').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'idempotency_keys__pkey', columns: [t.tenantId, t.key] }),
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'idempotency_keys__tenant_id__fk' }).onDelete('cascade'),
    index('idempotency_keys__expires_idx').on(t.expiresAt),
    check('idempotency_keys__key__check', sql`char_length(${t.key}) BETWEEN 1 AND 255`),
  ],
);
