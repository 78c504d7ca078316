import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  date,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { ROLE_VALUES } from '../auth/roles.ts';
import { uuidv7 } from './uuid-v7.ts';

/**
 * The values `deals.stage` may hold, in lifecycle order. The database owns the list (its check
 * constraint is built from it); src/deals/deal-stages.ts gives each stage its meaning and its
 * transitions, and tsc refuses a stage there that is missing here or the other way round.
 */
export const DEAL_STAGE_VALUES = [
  'new_lead',
  'qualifying',
  'qualified',
  'nurturing',
  'meeting_booked',
  'meeting_done',
  'proposal_sent',
  'negotiating',
  'payment_requested',
  'pilot_active',
  'closed_won',
  'closed_lost',
  'opted_out',
] as const;

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
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
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
    // A contact's deals in id order; scanned backwards, ORDER BY id DESC LIMIT 1 stops at the newest
    // match (an index built DESC NULLS LAST could not serve ORDER BY id DESC, which means NULLS FIRST).
    index('deals__tenant_contact_idx').on(t.tenantId, t.contactId, t.id),
    // "Has this contact opted out?" is asked before every send and every decision.
    index('deals__tenant_contact_opted_out_idx').on(t.tenantId, t.contactId).where(sql`${t.stage} = 'opted_out'`),
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
    /** The caller's token subject: a key belongs to one caller, never to the whole tenant. */
    subject: text('subject').notNull(),
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
    primaryKey({ name: 'idempotency_keys__pkey', columns: [t.tenantId, t.subject, t.key] }),
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'idempotency_keys__tenant_id__fk' }).onDelete('cascade'),
    index('idempotency_keys__expires_idx').on(t.expiresAt),
    check('idempotency_keys__key__check', sql`char_length(${t.key}) BETWEEN 1 AND 255`),
  ],
);

// ─── Execution fabric (gateway, approvals, durable flows) ──────────────────────────────

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Per-tenant Ed25519 keys that sign approval tokens; the private half sealed under DEALIX_MASTER_KEY. */
export const tenantSigningKeys = pgTable(
  'tenant_signing_keys',
  {
    tenantId: tenantId(),
    kid: text('kid').notNull(),
    publicJwk: jsonb('public_jwk').notNull(),
    privateKeySealed: text('private_key_sealed').notNull(),
    createdAt: createdAt(),
    retiredAt: at('retired_at'),
  },
  (t) => [
    primaryKey({ name: 'tenant_signing_keys__pkey', columns: [t.tenantId, t.kid] }),
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'tenant_signing_keys__tenant_id__fk' }).onDelete('cascade'),
    // One active key per tenant: two racing first uses cannot both make one (activeSigningKey).
    uniqueIndex('tenant_signing_keys__active_key').on(t.tenantId).where(sql`${t.retiredAt} IS NULL`),
  ],
);

/** A tenant's tightening of the policy table: an action made class B or C (never looser). */
export const policyOverrides = pgTable(
  'policy_overrides',
  {
    tenantId: tenantId(),
    action: text('action').notNull(),
    policyClass: text('policy_class').notNull(),
    reason: text('reason').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ name: 'policy_overrides__pkey', columns: [t.tenantId, t.action] }),
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'policy_overrides__tenant_id__fk' }).onDelete('cascade'),
    check('policy_overrides__class__check', sql`${t.policyClass} IN ('B', 'C')`),
  ],
);

/** Tenants placed in a canary group for a named version of a policy set or flow. */
export const canaryMemberships = pgTable(
  'canary_memberships',
  {
    tenantId: tenantId(),
    subject: text('subject').notNull(),
    version: text('version').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ name: 'canary_memberships__pkey', columns: [t.tenantId, t.subject] }),
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'canary_memberships__tenant_id__fk' }).onDelete('cascade'),
  ],
);

/**
 * Percentage rollouts of a version, by a stable hash of the tenant id. Platform-wide (no
 * tenant_id): the app may read it, only the platform operator (owner) writes it.
 */
export const canaryRollouts = pgTable(
  'canary_rollouts',
  {
    subject: text('subject').notNull(),
    version: text('version').notNull(),
    percentage: integer('percentage').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ name: 'canary_rollouts__pkey', columns: [t.subject, t.version] }),
    check('canary_rollouts__percentage__check', sql`${t.percentage} BETWEEN 0 AND 100`),
  ],
);

export const approvalRequests = pgTable(
  'approval_requests',
  {
    id: uuid('id').primaryKey().defaultRandom().$defaultFn(uuidv7),
    tenantId: tenantId(),
    action: text('action').notNull(),
    payload: jsonb('payload').notNull(),
    payloadSha256: text('payload_sha256').notNull(),
    requester: text('requester').notNull(),
    /** The payload's deal, when it names one: own-only roles see the requests of their deals. */
    dealId: uuid('deal_id'),
    status: text('status').notNull().default('pending'),
    slaDueAt: at('sla_due_at').notNull(),
    decidedBy: text('decided_by'),
    decidedAt: at('decided_at'),
    decisionReason: text('decision_reason'),
    correlationId: text('correlation_id'),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'approval_requests__tenant_id__fk' }).onDelete('cascade'),
    check('approval_requests__status__check', sql`${t.status} IN ('pending', 'approved', 'rejected', 'withdrawn')`),
    // The same action on the same payload is one open request, however often it is asked.
    uniqueIndex('approval_requests__open_key').on(t.tenantId, t.action, t.payloadSha256).where(sql`${t.status} = 'pending'`),
    index('approval_requests__tenant_status_idx').on(t.tenantId, t.status, t.id.desc()),
    index('approval_requests__tenant_deal_idx').on(t.tenantId, t.dealId, t.id.desc()).where(sql`${t.dealId} IS NOT NULL`),
    index('approval_requests__tenant_requester_idx').on(t.tenantId, t.requester, t.id.desc()),
  ],
);

/** Scoped pre-approvals: the gate mints a token itself when a call fits the conditions. */
export const standingApprovals = pgTable(
  'standing_approvals',
  {
    id: uuid('id').primaryKey().defaultRandom().$defaultFn(uuidv7),
    tenantId: tenantId(),
    action: text('action').notNull(),
    conditions: jsonb('conditions').notNull().default({}),
    grantedBy: text('granted_by').notNull(),
    expiresAt: at('expires_at').notNull(),
    revokedAt: at('revoked_at'),
    revokedBy: text('revoked_by'),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'standing_approvals__tenant_id__fk' }).onDelete('cascade'),
    index('standing_approvals__tenant_action_idx').on(t.tenantId, t.action),
  ],
);

/** Spent approval tokens: the primary key makes spending atomic and single. */
export const approvalTokenUses = pgTable(
  'approval_token_uses',
  {
    tenantId: tenantId(),
    tokenId: text('token_id').notNull(),
    decisionId: uuid('decision_id').notNull(),
    standingApprovalId: uuid('standing_approval_id'),
    usedAt: at('used_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'approval_token_uses__pkey', columns: [t.tenantId, t.tokenId] }),
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'approval_token_uses__tenant_id__fk' }).onDelete('cascade'),
    index('approval_token_uses__standing_idx').on(t.tenantId, t.standingApprovalId, t.usedAt),
  ],
);

/** One row per gateway call: what was asked, what was decided, and why. */
export const decisions = pgTable(
  'decisions',
  {
    id: uuid('id').primaryKey().defaultRandom().$defaultFn(uuidv7),
    tenantId: tenantId(),
    correlationId: text('correlation_id'),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    policyClass: text('policy_class').notNull(),
    matchedRule: text('matched_rule').notNull(),
    policyVersion: text('policy_version').notNull(),
    payloadSha256: text('payload_sha256').notNull(),
    result: text('result').notNull(),
    reason: text('reason').notNull(),
    approvalRequestId: uuid('approval_request_id'),
    standingApprovalId: uuid('standing_approval_id'),
    approvalTokenId: text('approval_token_id'),
    canaryVersion: text('canary_version'),
    flowRunId: uuid('flow_run_id'),
    /** The deal the action's payload named, when it is a deal of this tenant: the deal timeline reads by it. */
    dealId: uuid('deal_id'),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'decisions__tenant_id__fk' }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.dealId], foreignColumns: [deals.tenantId, deals.id], name: 'decisions__deal_id__fk' }),
    index('decisions__tenant_idx').on(t.tenantId, t.id.desc()),
    index('decisions__tenant_action_idx').on(t.tenantId, t.action, t.id.desc()),
    // The deal timeline's read, newest first: scanned backwards it serves ORDER BY created_at DESC, id DESC.
    index('decisions__tenant_deal_idx').on(t.tenantId, t.dealId, t.createdAt, t.id).where(sql`${t.dealId} IS NOT NULL`),
  ],
);

export const flowRuns = pgTable(
  'flow_runs',
  {
    id: uuid('id').primaryKey().defaultRandom().$defaultFn(uuidv7),
    tenantId: tenantId(),
    flowName: text('flow_name').notNull(),
    flowVersion: text('flow_version').notNull(),
    status: text('status').notNull().default('pending'),
    input: jsonb('input').notNull(),
    state: jsonb('state').notNull().default({}),
    output: jsonb('output'),
    nextStep: integer('next_step').notNull().default(0),
    attempt: integer('attempt').notNull().default(0),
    nextAttemptAt: at('next_attempt_at'),
    waitSignal: text('wait_signal'),
    waitUntil: at('wait_until'),
    cancelRequested: boolean('cancel_requested').notNull().default(false),
    idempotencyKey: text('idempotency_key'),
    correlationId: text('correlation_id'),
    canaryVersion: text('canary_version'),
    error: jsonb('error'),
    replayOf: uuid('replay_of'),
    /** The deal the run acts on, when its starter knows one (a gateway action naming a deal, a timed reply). */
    dealId: uuid('deal_id'),
    createdAt: createdAt(),
    updatedAt: at('updated_at').notNull().defaultNow(),
    completedAt: at('completed_at'),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'flow_runs__tenant_id__fk' }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.dealId], foreignColumns: [deals.tenantId, deals.id], name: 'flow_runs__deal_id__fk' }),
    index('flow_runs__tenant_deal_idx').on(t.tenantId, t.dealId, t.id).where(sql`${t.dealId} IS NOT NULL`),
    unique('flow_runs__tenant_id_id__key').on(t.tenantId, t.id),
    uniqueIndex('flow_runs__idempotency_key').on(t.tenantId, t.idempotencyKey).where(sql`${t.idempotencyKey} IS NOT NULL`),
    index('flow_runs__tenant_status_idx').on(t.tenantId, t.status, t.id.desc()),
    check('flow_runs__status__check', sql`${t.status} IN ('pending', 'running', 'waiting', 'completed', 'failed', 'cancelled')`),
  ],
);

export const flowCheckpoints = pgTable(
  'flow_checkpoints',
  {
    tenantId: tenantId(),
    runId: uuid('run_id').notNull(),
    seq: integer('seq').notNull(),
    step: text('step'),
    status: text('status').notNull(),
    note: text('note'),
    state: jsonb('state').notNull(),
    at: at('at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'flow_checkpoints__pkey', columns: [t.tenantId, t.runId, t.seq] }),
    foreignKey({ columns: [t.tenantId, t.runId], foreignColumns: [flowRuns.tenantId, flowRuns.id], name: 'flow_checkpoints__run_id__fk' }).onDelete('cascade'),
  ],
);

/** The signal inbox: a signal sent before its wait exists is kept until the run consumes it. */
export const flowSignals = pgTable(
  'flow_signals',
  {
    id: uuid('id').primaryKey().defaultRandom().$defaultFn(uuidv7),
    tenantId: tenantId(),
    runId: uuid('run_id').notNull(),
    name: text('name').notNull(),
    payload: jsonb('payload').notNull().default({}),
    createdAt: createdAt(),
    consumedAt: at('consumed_at'),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId, t.runId], foreignColumns: [flowRuns.tenantId, flowRuns.id], name: 'flow_signals__run_id__fk' }).onDelete('cascade'),
    index('flow_signals__run_idx').on(t.tenantId, t.runId, t.name).where(sql`${t.consumedAt} IS NULL`),
  ],
);

/** External side effects, recorded before the call under a key derived from run and step. */
export const sideEffects = pgTable(
  'side_effects',
  {
    tenantId: tenantId(),
    idempotencyKey: text('idempotency_key').notNull(),
    runId: uuid('run_id').notNull(),
    step: text('step').notNull(),
    status: text('status').notNull().default('recorded'),
    attempts: integer('attempts').notNull().default(0),
    result: jsonb('result'),
    createdAt: createdAt(),
    completedAt: at('completed_at'),
  },
  (t) => [
    primaryKey({ name: 'side_effects__pkey', columns: [t.tenantId, t.idempotencyKey] }),
    foreignKey({ columns: [t.tenantId, t.runId], foreignColumns: [flowRuns.tenantId, flowRuns.id], name: 'side_effects__run_id__fk' }).onDelete('cascade'),
    check('side_effects__status__check', sql`${t.status} IN ('recorded', 'done', 'compensated')`),
  ],
);

export const deadLetters = pgTable(
  'dead_letters',
  {
    id: uuid('id').primaryKey().defaultRandom().$defaultFn(uuidv7),
    tenantId: tenantId(),
    runId: uuid('run_id').notNull(),
    flowName: text('flow_name').notNull(),
    step: text('step').notNull(),
    error: jsonb('error').notNull(),
    attempts: integer('attempts').notNull(),
    escalation: text('escalation'),
    replayedAt: at('replayed_at'),
    replayRunId: uuid('replay_run_id'),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId, t.runId], foreignColumns: [flowRuns.tenantId, flowRuns.id], name: 'dead_letters__run_id__fk' }).onDelete('cascade'),
    index('dead_letters__tenant_idx').on(t.tenantId, t.id.desc()),
  ],
);

// ─── Outbound messages (WhatsApp) ──────────────────────────────────────────────────────

/**
 * Every outbound message, from queued to sent, failed or cancelled. A provider send is keyed
 * by `idempotency_key` (unique per tenant), so a retried or resumed flow never sends twice;
 * opt-out cancels the queued rows of a contact in the same transaction.
 */
export const outboundMessages = pgTable(
  'outbound_messages',
  {
    id: uuid('id').primaryKey().defaultRandom().$defaultFn(uuidv7),
    tenantId: tenantId(),
    contactId: uuid('contact_id').notNull(),
    dealId: uuid('deal_id'),
    channel: text('channel').notNull().default('whatsapp'),
    toE164: text('to_e164').notNull(),
    body: text('body').notNull(),
    templateId: text('template_id'),
    /** The template version the text was rendered from (0: built-in), so an edited template never rewrites history. */
    templateVersion: integer('template_version'),
    language: text('language').notNull().default('ar'),
    status: text('status').notNull().default('queued'),
    provider: text('provider'),
    externalId: text('external_id'),
    idempotencyKey: text('idempotency_key').notNull(),
    flowRunId: uuid('flow_run_id'),
    error: text('error'),
    createdAt: createdAt(),
    sentAt: at('sent_at'),
    /** The deal's stage when the send was made, read under the locks that order it against stage changes. */
    sentInStage: text('sent_in_stage'),
    cancelledAt: at('cancelled_at'),
    cancelReason: text('cancel_reason'),
    /** From the provider's status webhooks: sent → delivered → read (or failed, with the error). */
    deliveryStatus: text('delivery_status'),
    deliveredAt: at('delivered_at'),
    readAt: at('read_at'),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'outbound_messages__tenant_id__fk' }).onDelete('cascade'),
    check('outbound_messages__delivery_status__check', sql`${t.deliveryStatus} IN ('sent', 'delivered', 'read', 'failed')`),
    index('outbound_messages__tenant_provider_external_idx').on(t.tenantId, t.provider, t.externalId),
    foreignKey({ columns: [t.tenantId, t.contactId], foreignColumns: [contacts.tenantId, contacts.id], name: 'outbound_messages__contact_id__fk' }),
    foreignKey({ columns: [t.tenantId, t.dealId], foreignColumns: [deals.tenantId, deals.id], name: 'outbound_messages__deal_id__fk' }),
    unique('outbound_messages__tenant_idempotency_key__key').on(t.tenantId, t.idempotencyKey),
    check('outbound_messages__channel__check', sql`${t.channel} IN ('whatsapp')`),
    // `sending`: claimed by the send step, at (or about to be at) a provider; an opt-out reports it in flight.
    check('outbound_messages__status__check', sql`${t.status} IN ('queued', 'sending', 'sent', 'failed', 'cancelled', 'delivery_unknown')`),
    check('outbound_messages__language__check', sql`${t.language} IN ('ar', 'en')`),
    check('outbound_messages__to_e164__check', sql`${t.toE164} ~ '^\\+[1-9][0-9]{6,14}$'`),
    index('outbound_messages__tenant_contact_status_idx').on(t.tenantId, t.contactId, t.status),
  ],
);

/**
 * Every inbound message that /os/process-and-act handled: what was said, what it was
 * classified as, and on which contact and deal. Written in the same transaction as the deal
 * transition it caused.
 */
export const inboundMessages = pgTable(
  'inbound_messages',
  {
    id: uuid('id').primaryKey().defaultRandom().$defaultFn(uuidv7),
    tenantId: tenantId(),
    contactId: uuid('contact_id').notNull(),
    dealId: uuid('deal_id'),
    channel: text('channel').notNull().default('whatsapp'),
    text: text('text').notNull(),
    intent: text('intent'),
    confidence: doublePrecision('confidence'),
    language: text('language'),
    receivedAt: at('received_at').notNull().defaultNow(),
    correlationId: text('correlation_id'),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'inbound_messages__tenant_id__fk' }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.contactId], foreignColumns: [contacts.tenantId, contacts.id], name: 'inbound_messages__contact_id__fk' }),
    foreignKey({ columns: [t.tenantId, t.dealId], foreignColumns: [deals.tenantId, deals.id], name: 'inbound_messages__deal_id__fk' }),
    check('inbound_messages__channel__check', sql`${t.channel} IN ('whatsapp')`),
    index('inbound_messages__tenant_contact_idx').on(t.tenantId, t.contactId, t.id.desc()),
  ],
);

/**
 * A reply waiting for a human: written by /os/process-and-act when the decision (or the
 * gateway) says a person must approve it, or when it is scheduled for the next business
 * opening (no durable timer yet: the draft says so in its reason).
 */
export const drafts = pgTable(
  'drafts',
  {
    id: uuid('id').primaryKey().defaultRandom().$defaultFn(uuidv7),
    tenantId: tenantId(),
    contactId: uuid('contact_id').notNull(),
    dealId: uuid('deal_id'),
    text: text('text'),
    templateId: text('template_id'),
    language: text('language').notNull().default('ar'),
    reason: text('reason').notNull(),
    status: text('status').notNull().default('pending'),
    /** Bumped on every text edit: an approval is always for the version it saw. */
    version: integer('version').notNull().default(1),
    lastEditedBy: text('last_edited_by'),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    decisionReason: text('decision_reason'),
    /** Set when approved: the gateway decision and the send flow run. */
    decisionId: uuid('decision_id'),
    flowRunId: uuid('flow_run_id'),
    /**
     * The approval request the gateway opened when it refused to send this reply on its own:
     * deciding the draft withdraws it, so one reply never waits in two queues.
     */
    approvalRequestId: uuid('approval_request_id'),
    /** The timed-reply run that wrote this draft when the gateway refused its send: one draft per run, even if the step runs twice. */
    originRunId: uuid('origin_run_id'),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'drafts__tenant_id__fk' }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.contactId], foreignColumns: [contacts.tenantId, contacts.id], name: 'drafts__contact_id__fk' }),
    foreignKey({ columns: [t.tenantId, t.dealId], foreignColumns: [deals.tenantId, deals.id], name: 'drafts__deal_id__fk' }),
    check('drafts__status__check', sql`${t.status} IN ('pending', 'approved', 'discarded')`),
    check('drafts__language__check', sql`${t.language} IN ('ar', 'en')`),
    index('drafts__tenant_status_idx').on(t.tenantId, t.status, t.id.desc()),
    uniqueIndex('drafts__origin_run_key').on(t.tenantId, t.originRunId).where(sql`${t.originRunId} IS NOT NULL`),
  ],
);

/**
 * Tenant edits of reply templates, append-only: every edit is a new version (1, 2, …) of a
 * template id from the built-in catalogue (version 0). The highest version is in use; an
 * approval binds to the version it saw, so an edit never changes an approved message.
 */
export const templateVersions = pgTable(
  'template_versions',
  {
    tenantId: tenantId(),
    templateId: text('template_id').notNull(),
    version: integer('version').notNull(),
    text: text('text').notNull(),
    variables: text('variables').array().notNull(),
    note: text('note'),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.templateId, t.version], name: 'template_versions__pk' }),
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'template_versions__tenant_id__fk' }).onDelete('cascade'),
    check('template_versions__version__check', sql`${t.version} >= 1`),
  ],
);

/**
 * Tenant lifecycle settings (business hours, template variables such as price_range),
 * append-only versions; the highest is in use. No row: the defaults (Sun–Thu 09:00–18:00
 * Asia/Riyadh, no variables).
 */
export const osSettingsVersions = pgTable(
  'os_settings_versions',
  {
    tenantId: tenantId(),
    version: integer('version').notNull(),
    businessHours: jsonb('business_hours').notNull(),
    templateVariables: jsonb('template_variables').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.version], name: 'os_settings_versions__pk' }),
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'os_settings_versions__tenant_id__fk' }).onDelete('cascade'),
    check('os_settings_versions__version__check', sql`${t.version} >= 1`),
  ],
);

/**
 * Per-tenant WhatsApp provider credentials (issue 5): the JSON of the provider's settings,
 * sealed with AES-256-GCM under DEALIX_MASTER_KEY (the AAD binds tenant and provider, so a
 * sealed value copied to another tenant or provider does not open). Never returned by the API.
 */
export const whatsappCredentials = pgTable(
  'whatsapp_credentials',
  {
    tenantId: tenantId(),
    provider: text('provider').notNull(),
    sealed: text('sealed').notNull(),
    updatedBy: text('updated_by').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.provider], name: 'whatsapp_credentials__pk' }),
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'whatsapp_credentials__tenant_id__fk' }).onDelete('cascade'),
    check('whatsapp_credentials__provider__check', sql`${t.provider} IN ('green-api', 'ultramsg', 'fonnte', 'meta-cloud')`),
  ],
);

/**
 * The unguessable key in a tenant's webhook URLs (/webhooks/whatsapp/{provider}/{key}). Looked
 * up by its SHA-256 before any tenant is known (a SECURITY DEFINER function); the key itself
 * is kept sealed so an admin can read the URLs again.
 */
export const whatsappWebhookKeys = pgTable(
  'whatsapp_webhook_keys',
  {
    tenantId: tenantId().primaryKey(),
    keySha256: text('key_sha256').notNull().unique('whatsapp_webhook_keys__key_sha256__key'),
    sealedKey: text('sealed_key').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'whatsapp_webhook_keys__tenant_id__fk' }).onDelete('cascade')],
);

/**
 * Every authentic webhook event, stored before it is acknowledged. Inbound messages are
 * unique per provider message id, so a redelivery is recognised and processed once.
 */
export const whatsappWebhookEvents = pgTable(
  'whatsapp_webhook_events',
  {
    id: uuid('id').primaryKey().defaultRandom().$defaultFn(uuidv7),
    tenantId: tenantId(),
    provider: text('provider').notNull(),
    kind: text('kind').notNull(),
    providerMessageId: text('provider_message_id'),
    /** The normalised event (message, status or ignored, with the reason). */
    event: jsonb('event').notNull(),
    /** The request body exactly as received, for audit and reprocessing. */
    rawBody: text('raw_body').notNull(),
    flowRunId: uuid('flow_run_id'),
    /** Set in the same transaction as the processing, so a re-run of the step does nothing twice. */
    processedAt: at('processed_at'),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'whatsapp_webhook_events__tenant_id__fk' }).onDelete('cascade'),
    check('whatsapp_webhook_events__kind__check', sql`${t.kind} IN ('message', 'status', 'ignored')`),
    uniqueIndex('whatsapp_webhook_events__message_key')
      .on(t.tenantId, t.provider, t.providerMessageId)
      .where(sql`${t.kind} = 'message'`),
  ],
);

/** One row per provider tried for an outbound message: the fallback chain's record (issue 5). */
export const whatsappSendAttempts = pgTable(
  'whatsapp_send_attempts',
  {
    id: uuid('id').primaryKey().defaultRandom().$defaultFn(uuidv7),
    tenantId: tenantId(),
    outboundId: uuid('outbound_id'),
    flowRunId: uuid('flow_run_id'),
    provider: text('provider').notNull(),
    /** started (written before the call), then accepted | transient | permanent | skipped. */
    outcome: text('outcome').notNull(),
    code: text('code'),
    reason: text('reason'),
    externalId: text('external_id'),
    latencyMs: integer('latency_ms'),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull(),
    finishedAt: at('finished_at'),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id], name: 'whatsapp_send_attempts__tenant_id__fk' }).onDelete('cascade'),
    check('whatsapp_send_attempts__outcome__check', sql`${t.outcome} IN ('started', 'accepted', 'transient', 'permanent', 'skipped')`),
    index('whatsapp_send_attempts__tenant_provider_idx').on(t.tenantId, t.provider, t.startedAt.desc()),
    index('whatsapp_send_attempts__tenant_outbound_idx').on(t.tenantId, t.outboundId),
  ],
);
