import { and, desc, eq, notInArray } from 'drizzle-orm';
import { findContact, selectContacts } from '../contacts/contacts.store.ts';
import { deals } from '../db/schema.ts';
import { DEAL_STAGE_VALUES, type DealStage } from '../deals/deal-stages.ts';
import { findDeal, type DealScope } from '../deals/deals.store.ts';
import { LIFECYCLE, type TemplateLanguage } from '../deals/lifecycle.ts';
import { loadLifecycleConfig, type LifecycleConfig } from '../os-settings/os-settings.store.ts';
import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { decideNextStep } from './decide.ts';
import type { TProcessRequest, TProcessResponse } from './os.schemas.ts';

export interface ProcessEventOptions {
  tx: TenantTx;
  /** Keys the tenant's cached settings and templates. */
  tenantId: string;
  input: TProcessRequest;
  /** Which deals the caller may read. */
  scope: DealScope;
  correlationId: string;
  now?: Date;
  /** The tenant's templates and settings, when the caller already read them (bulk: once for all events). */
  config?: LifecycleConfig;
}

function stringValues(values: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/**
 * Classifies an event and decides the next step for its deal. Reads the contact and the deal
 * (through the tenant transaction) and writes nothing: a phone not on file is a new lead.
 */
export async function processEvent(options: ProcessEventOptions): Promise<TProcessResponse> {
  const { tx, input, scope, correlationId, now } = options;
  const contact = input.contact_id
    ? await findContact(tx, input.contact_id)
    : input.contact
      ? (await selectContacts(tx, { phoneE164: input.contact.phone, limit: 1 }))[0]
      : undefined;
  if (input.contact_id && !contact) throw new AppError('not_found', `Contact ${input.contact_id} does not exist`);

  // The contact's deals, newest first. An opt-out on any of them, even one the caller may not
  // see, holds for the contact: nothing is ever sent to them again, on any deal.
  // Two narrow reads, not the contact's whole deal history (a busy contact has thousands).
  const hasOptedOut = contact
    ? (await tx.select({ id: deals.id }).from(deals).where(and(eq(deals.contactId, contact.id), eq(deals.stage, 'opted_out'))).limit(1)).length > 0
    : false;
  const terminal = DEAL_STAGE_VALUES.filter((s) => LIFECYCLE[s].terminal);
  const [newestOpen] = contact
    ? await tx
        .select({ id: deals.id, stage: deals.stage, ownerUserId: deals.ownerUserId })
        .from(deals)
        .where(and(eq(deals.contactId, contact.id), notInArray(deals.stage, terminal), scope.ownerUserId === undefined ? undefined : eq(deals.ownerUserId, scope.ownerUserId)))
        .orderBy(desc(deals.id))
        .limit(1)
    : [];

  let stage: DealStage = 'new_lead';
  let dealId: string | null = null;
  if (input.deal_id) {
    const deal = await findDeal(tx, input.deal_id, scope);
    if (!deal || deal.contactId !== contact?.id) throw new AppError('not_found', `Deal ${input.deal_id} does not exist for this contact`);
    stage = deal.stage as DealStage;
    dealId = deal.id;
  } else {
    const open = newestOpen;
    if (open) {
      stage = open.stage as DealStage;
      dealId = open.id;
    }
  }
  if (hasOptedOut) stage = 'opted_out';

  const config = options.config ?? (await loadLifecycleConfig(tx, options.tenantId));
  const decision = decideNextStep({
    stage,
    event: input.event,
    contact: {
      name: contact?.name ?? input.contact?.name,
      company: contact?.company,
      preferred_language: contact ? (contact.preferredLanguage as TemplateLanguage) : undefined,
    },
    now: now ?? (input.event.at ? new Date(input.event.at) : new Date()),
    templates: config.templates,
    businessHours: config.settings.business_hours,
    variables: stringValues(config.settings.template_variables),
  });
  const { classification, ...rest } = decision;
  return {
    ...rest,
    classification: classification ? { confidence: classification.confidence, language: classification.language, reason: classification.reason } : null,
    contact_id: contact?.id ?? null,
    deal_id: dealId,
    correlation_id: correlationId,
  };
}
