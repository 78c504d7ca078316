import { and, desc, eq, sql } from 'drizzle-orm';
import { createContact } from '../contacts/create-contact.ts';
import { findContact } from '../contacts/contacts.store.ts';
import { activities, deals, drafts, inboundMessages } from '../db/schema.ts';
import { createDeal } from '../deals/create-deal.ts';
import type { DealScope } from '../deals/deals.store.ts';
import { transitionDealStage } from '../deals/transition-deal-stage.ts';
import { executeAction, type ExecuteDeps } from '../gateway/execute-action.ts';
import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { stopOutboundFor, type StoppedOutbound } from './stop-outbound-for.ts';
import { startFlow } from '../flows/flow-commands.ts';
import { cancelTimedReplies, TIMED_REPLY_FLOW, type TimedReplyInput, type TimedReplyKind } from './timed-reply.flow.ts';
import type { TProcessAndActResponse, TProcessRequest } from './os.schemas.ts';
import { processEvent } from './process-event.ts';

export interface ProcessAndActOptions {
  tx: TenantTx;
  tenantId: string;
  input: TProcessRequest;
  /** Which deals the caller may write (a sales_rep: their own). */
  scope: DealScope;
  actor: string;
  correlationId: string;
  /** The request's Idempotency-Key, passed on (prefixed) to the gateway. */
  idempotencyKey?: string | undefined;
  deps: ExecuteDeps;
  now?: Date;
}

/**
 * /os/process-and-act: decides exactly as /os/process does, then carries the decision out in
 * the caller's tenant transaction, so either all of it happens or none of it:
 * 1. the contact (created when the phone is new, E.164) and the deal (the given one, else the
 *    contact's newest open deal, else a new one at new_lead);
 * 2. the inbound message, for inbound_message events;
 * 3. the stage change through the guarded transition (which writes the activity); opt-out
 *    also cancels every queued outbound message of the contact;
 * 4. the reply: `auto` → send_whatsapp through the gateway (the standing approval is checked
 *    there; when it does not fit, a draft linked to the approval request the gateway opened);
 *    `draft` → a draft; `scheduled` → a durable timer ({@link createTimedReplyFlow}) that asks
 *    the gateway at the next opening; `blocked` → nothing. not_now into nurturing also starts
 *    the follow-up timer. Opt-out cancels the contact's timers; a new message the deal's.
 *
 * The send's payload carries the deal's NEW stage (after the transition): the flow's record
 * step re-checks the deal is still in the approved stage when it runs after the commit, and
 * the standing approval's stage condition is about the stage the reply is sent in.
 */
export async function processAndAct(options: ProcessAndActOptions): Promise<TProcessAndActResponse> {
  const { tx, tenantId, input, scope, actor, correlationId, deps } = options;
  const now = options.now ?? (input.event.at ? new Date(input.event.at) : new Date());
  const decided = await processEvent({ tx, tenantId, input, scope, correlationId, now });

  // 1. The contact and the deal.
  let contact = decided.contact_id ? await findContact(tx, decided.contact_id) : undefined;
  const isNewContact = !contact;
  if (!contact && input.contact) {
    const preferred = decided.reply?.language ?? (decided.classification?.language === 'en' ? 'en' : 'ar');
    const created = await createContact({ tx, input: { phone: input.contact.phone, name: input.contact.name, preferred_language: preferred } });
    contact = await findContact(tx, created.id);
  }
  if (!contact) throw new AppError('not_found', 'The contact does not exist');
  const contactId = contact.id;

  let dealId = decided.deal_id;
  if (!dealId && decided.stage.from === 'opted_out') {
    // An opted-out contact with no open deal: the opt-out deal carries the record, no new deal is opened.
    const [optedOut] = await tx.select({ id: deals.id }).from(deals).where(and(eq(deals.contactId, contactId), eq(deals.stage, 'opted_out'))).orderBy(desc(deals.id)).limit(1);
    dealId = optedOut?.id ?? null;
  }
  if (!dealId) {
    const title = contact.name ? `${contact.name}${contact.company ? ` — ${contact.company}` : ''}` : `WhatsApp lead ${contact.phoneE164}`;
    const deal = await createDeal({ tx, input: { contact_id: contactId, title, value_halalas: 0 }, actor, scope, correlationId });
    dealId = deal.id;
  }

  // Lock order: the deal before the contact, as the send step takes them (deal FOR SHARE, then
  // contact FOR UPDATE). The inbound row's foreign key would otherwise take the contact first
  // (KEY SHARE) and the transition the deal second: a send in flight on the same deal then
  // waits for us while we wait for it, and PostgreSQL aborts one of us (40P01).
  if (decided.deal_id && decided.stage.to !== decided.stage.from) {
    await tx.execute(sql`SELECT 1 FROM deals WHERE id = ${decided.deal_id} FOR NO KEY UPDATE`);
  }

  // 2. The inbound message.
  let inboundMessageId: string | null = null;
  if (input.event.type === 'inbound_message') {
    const [row] = await tx
      .insert(inboundMessages)
      .values({
        contactId,
        dealId,
        text: input.event.text ?? '',
        intent: decided.intent,
        confidence: decided.classification?.confidence ?? null,
        language: decided.classification?.language ?? null,
        receivedAt: now,
        correlationId,
      })
      .returning({ id: inboundMessages.id });
    inboundMessageId = row?.id ?? null;
  }

  // 3. The stage change, and opt-out's cancellation in the same transaction.
  let stopped: StoppedOutbound | undefined;
  if (decided.stage.to !== decided.stage.from) {
    ({ stopped } = await transitionDealStage({
      tx,
      dealId,
      input: { from: decided.stage.from, to: decided.stage.to, reason: decided.stage.reason },
      actor,
      scope,
      correlationId,
      stopOutreach: stopOutboundFor,
    }));
  }
  // The transition into opted_out stopped the contact's queued messages and timers; a contact
  // already opted out (no transition) is swept again, in case anything slipped in since.
  if (decided.stage.to === 'opted_out' && !stopped) stopped = await stopOutboundFor({ tx, contactId });
  const cancelledOutboundIds = stopped?.outboundIds ?? [];
  // A newer message supersedes the deal's pending timed replies (the newest decision wins, so
  // a lead who wrote three times overnight gets one reply).
  const cancelledTimedReplyRunIds =
    stopped?.timedReplyRunIds ??
    // A contact created by this request has no timers yet: the lookup is skipped for the commonest case, a new lead.
    (input.event.type === 'inbound_message' && !isNewContact ? await cancelTimedReplies({ tx, contactId, dealId }) : []);

  // 4. The reply.
  let decisionId: string | null = null;
  let flowRunId: string | null = null;
  let draftId: string | null = null;
  const timedReplyRunIds: string[] = [];
  const startTimedReply = async (kind: TimedReplyKind, fireAt: string) => {
    const flow = deps.router.registry.get(TIMED_REPLY_FLOW, '1');
    if (!flow) throw new Error(`flow ${TIMED_REPLY_FLOW} is not registered (registerOsFlows)`);
    const reply = decided.reply;
    const timed: TimedReplyInput = {
      kind,
      contact_id: contactId,
      deal_id: dealId,
      stage: decided.stage.to,
      fire_at: fireAt,
      ...(kind === 'out_of_hours' && reply
        ? { reply: { template_id: reply.template, template_version: reply.template_version, variables: reply.variables, language: reply.language } }
        : {}),
      actor,
      correlation_id: correlationId,
    };
    const { run } = await startFlow({ tx, flow, input: { ...timed }, correlationId, dealId });
    timedReplyRunIds.push(run.id);
  };
  const addDraft = async (reason: string, approvalRequestId: string | null = null) => {
    const [row] = await tx
      .insert(drafts)
      .values({
        contactId,
        dealId,
        text: decided.reply?.text ?? null,
        templateId: decided.reply?.template ?? null,
        language: decided.reply?.language ?? (contact.preferredLanguage as 'ar' | 'en'),
        reason,
        approvalRequestId,
      })
      .returning({ id: drafts.id });
    return row?.id ?? null;
  };
  const send = decided.actions.find((action) => action.action === 'send_whatsapp');
  if (send?.mode === 'auto' && decided.reply) {
    const outcome = await executeAction({
      tx,
      tenantId,
      request: {
        actor,
        action: 'send_whatsapp',
        payload: {
          contact_id: contactId,
          deal_id: dealId,
          template_id: decided.reply.template,
          template_version: decided.reply.template_version,
          variables: decided.reply.variables,
          stage: decided.stage.to,
          language: decided.reply.language,
        },
        correlationId,
        idempotencyKey: options.idempotencyKey ? `os:${options.idempotencyKey}` : undefined,
        dealScope: scope,
      },
      deps,
    });
    decisionId = outcome.decisionId;
    flowRunId = outcome.flowRunId;
    if (outcome.result !== 'accepted' && outcome.result !== 'forbidden') {
      draftId = await addDraft(`the gateway answered ${outcome.result}: ${outcome.reason}; a human approves or edits the reply`, outcome.approvalRequestId);
    }
  } else if (send?.mode === 'auto' || send?.mode === 'draft') {
    draftId = await addDraft(send.reason);
  } else if (send?.mode === 'scheduled' && send.scheduled_for) {
    await startTimedReply('out_of_hours', send.scheduled_for);
  }
  // not_now: the follow-up timer (nurturing only; elsewhere not_now leaves the deal to a human).
  if (decided.follow_up_at && decided.stage.to === 'nurturing') await startTimedReply('follow_up', decided.follow_up_at);

  const activityIds = (
    await tx.select({ id: activities.id }).from(activities).where(and(eq(activities.dealId, dealId), eq(activities.correlationId, correlationId))).orderBy(activities.id)
  ).map((row) => row.id);

  return {
    ...decided,
    contact_id: contactId,
    deal_id: dealId,
    done: {
      inbound_message_id: inboundMessageId,
      contact_id: contactId,
      deal_id: dealId,
      activity_ids: activityIds,
      decision_id: decisionId,
      flow_run_id: flowRunId,
      draft_id: draftId,
      cancelled_outbound_ids: cancelledOutboundIds,
      in_flight_outbound_ids: stopped?.inFlightOutboundIds ?? [],
      timed_reply_run_ids: timedReplyRunIds,
      cancelled_timed_reply_run_ids: cancelledTimedReplyRunIds,
    },
  };
}
