import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { findContact } from '../../contacts/contacts.store.ts';
import { decisions, deals, inboundMessages, outboundMessages, whatsappSendAttempts } from '../../db/schema.ts';
import { contactInScope, runDealScope } from '../../deals/deal-scope.ts';
import { DEAL_STAGE_VALUES, type DealStage } from '../../deals/deal-stages.ts';
import { scopeCondition } from '../../deals/deals.store.ts';
import { LIFECYCLE, MissingTemplateVariableError, renderTemplate } from '../../deals/lifecycle.ts';
import { defineFlow, PermanentStepError, type StepContext } from '../../flows/flow-definition.ts';
import { actionFlowInput, type ActionFlowInput } from '../../gateway/action-flow-input.ts';
import type { ActionPlugin } from '../../gateway/task-router.ts';
import { findTemplateVersion, loadLifecycleConfig } from '../../os-settings/os-settings.store.ts';
import type { TenantTx } from '../../tenancy/with-tenant.ts';
import type { ConfiguredProvider } from './credentials.store.ts';
import { cancelQueuedOutbound, contactHasOptedOut, draftForClosedWindow, OPTED_OUT_REASON, type OutboundMessageRow } from './outbound.store.ts';
import type { SendResult, WhatsAppProvider } from './provider.ts';
import { createSandboxProvider, SANDBOX_PROVIDER } from './sandbox-provider.ts';
import type { AttemptEvent, ProviderChain } from './send-smart.ts';
import { applyPendingStatuses, lockDeliveryStatus } from './delivery-status.ts';
import type { WhatsAppService } from './whatsapp-service.ts';

export const ZSendWhatsApp = z
  .strictObject({
    contact_id: z.uuid({ message: 'must be a UUID' }),
    deal_id: z.uuid({ message: 'must be a UUID' }).optional(),
    text: z.string().trim().min(1).max(4096).optional(),
    template_id: z.string().trim().min(1).max(100).optional(),
    /** The template version approved (0: built-in); absent: the tenant's version in use when it is recorded. */
    template_version: z.number().int().min(0).optional(),
    /** The values to fill the template with; absent: the contact's name and company and the tenant's variables. */
    variables: z.record(z.string().regex(/^[a-z_]+$/), z.string().max(500)).optional(),
    language: z.enum(['ar', 'en']).optional(),
    /** A Meta-approved template, sent instead of the text when Meta's 24-hour window is closed. */
    whatsapp_template: z
      .strictObject({
        name: z.string().trim().min(1).max(512),
        language: z.enum(['ar', 'en']),
        parameters: z.array(z.string().max(1024)).max(20).default([]),
      })
      .optional(),
    /** The deal's stage as the caller saw it; standing approvals match on it, so the flow checks it. */
    stage: z.enum(DEAL_STAGE_VALUES).optional(),
  })
  .refine((p) => p.text !== undefined || p.template_id !== undefined, { message: 'text or template_id is required', path: ['text'] })
  .refine((p) => p.stage === undefined || p.deal_id !== undefined, { message: 'stage needs deal_id', path: ['stage'] });
export type TSendWhatsApp = z.infer<typeof ZSendWhatsApp>;

/**
 * What the send step learns: the provider's answer, or `unknown` when an earlier try handed the
 * message to a provider and the process stopped before its answer was recorded.
 */
type SendOutcome = (SendResult | { kind: 'unknown'; reason: string }) & { provider?: string };

type Input = ActionFlowInput<TSendWhatsApp>;

/**
 * The record step refused the send (opted out, unknown contact, deal or template): permanent,
 * so the run fails at once. Any other error there (a lock timeout, a lost connection) retries.
 */
export class OutboundRefusedError extends PermanentStepError {}


/**
 * send_whatsapp (class B: the gateway requires an approval first). Two steps:
 * `record` queues the outbound row under the key `<runId>:send`, refusing a contact that has
 * opted out; `send` checks opt-out again at send time, then calls the provider once through
 * `ctx.sideEffect` with no transaction open, and records the outcome on the row.
 *
 * @example
 * router.register(createSendWhatsAppPlugin()); // sandbox provider
 */
export function createSendWhatsAppPlugin(options: { whatsapp?: WhatsAppService; provider?: (ctx: StepContext<Input>) => WhatsAppProvider } = {}): ActionPlugin {
  const providerFor = options.provider ?? ((ctx: StepContext<Input>) => createSandboxProvider((work) => ctx.db(work)));
  return {
    action: 'send_whatsapp',
    description: 'Sends a WhatsApp message to a contact (never to one who opted out).',
    payload: ZSendWhatsApp,
    flows: [
      defineFlow({
        name: 'action:send_whatsapp',
        version: '1',
        input: actionFlowInput(ZSendWhatsApp),
        steps: [
          {
            name: 'record',
            run: async (ctx) => {
              const { payload } = ctx.input;
              const idempotencyKey = `${ctx.runId}:send`;
              const outboundId = await ctx.db(async (tx) => {
                const [existing] = await tx.select({ id: outboundMessages.id }).from(outboundMessages).where(eq(outboundMessages.idempotencyKey, idempotencyKey));
                if (existing) return existing.id;
                const contact = await findContact(tx, payload.contact_id);
                // The scope of the caller who started the run: a sales_rep reaches only the contacts of their deals.
                const scope = runDealScope(ctx.input);
                if (!contact || !(await contactInScope(tx, contact.id, scope))) throw new OutboundRefusedError(`contact ${payload.contact_id} does not exist`);
                if (payload.deal_id) {
                  const [deal] = await tx.select({ contactId: deals.contactId, stage: deals.stage }).from(deals).where(and(eq(deals.id, payload.deal_id), scopeCondition(scope)));
                  if (!deal || deal.contactId !== contact.id) throw new OutboundRefusedError(`deal ${payload.deal_id} does not exist for contact ${contact.id}`);
                  if (payload.stage && deal.stage !== payload.stage) throw new OutboundRefusedError(`deal ${payload.deal_id} is in stage ${deal.stage}, not ${payload.stage} as approved`);
                }
                if (await contactHasOptedOut(tx, contact.id)) throw new OutboundRefusedError(`contact ${contact.id} has opted out: nothing is sent to them`);
                const language = payload.language ?? (contact.preferredLanguage as 'ar' | 'en');
                let body = payload.text;
                let templateVersion: number | null = null;
                if (body === undefined) {
                  const templateId = payload.template_id as string;
                  const config = payload.template_version === undefined || payload.variables === undefined ? await loadLifecycleConfig(tx, ctx.tenantId) : undefined;
                  const template =
                    payload.template_version !== undefined
                      ? await findTemplateVersion(tx, templateId, payload.template_version)
                      : config?.templates.find((candidate) => candidate.id === templateId);
                  if (!template) throw new OutboundRefusedError(`template ${templateId}${payload.template_version === undefined ? '' : ` version ${payload.template_version}`} does not exist`);
                  const variables = payload.variables ?? {
                    ...config?.settings.template_variables,
                    ...(contact.name ? { name: contact.name } : {}),
                    ...(contact.company ? { company: contact.company } : {}),
                  };
                  try {
                    body = renderTemplate(template, variables);
                  } catch (error) {
                    if (error instanceof MissingTemplateVariableError) throw new OutboundRefusedError(error.message);
                    throw error;
                  }
                  templateVersion = template.version;
                }
                const [row] = await tx
                  .insert(outboundMessages)
                  .values({
                    contactId: contact.id,
                    dealId: payload.deal_id ?? null,
                    toE164: contact.phoneE164,
                    body,
                    templateId: payload.template_id ?? null,
                    templateVersion,
                    language,
                    idempotencyKey,
                    flowRunId: ctx.runId,
                  })
                  .returning({ id: outboundMessages.id });
                if (!row) throw new Error('outbound insert returned nothing');
                return row.id;
              });
              return { state: { outbound_id: outboundId } };
            },
            compensate: async (ctx) => {
              const outboundId = ctx.state.outbound_id as string | undefined;
              if (!outboundId) return;
              await ctx.db((tx) =>
                tx
                  .update(outboundMessages)
                  .set({ status: 'cancelled', cancelledAt: sql`now()`, cancelReason: `flow run ${ctx.runId} failed; compensated` })
                  .where(and(eq(outboundMessages.id, outboundId), eq(outboundMessages.status, 'queued'))),
              );
            },
          },
          {
            name: 'send',
            run: async (ctx) => {
              const outboundId = ctx.state.outbound_id as string;
              // Three transactions, none open during the provider call (SPEC: no lock across a
              // network call). 1. The claim re-checks and marks the row `sending`; 2. the call;
              // 3. the outcome. An opt-out orders against a send on the contact row: before
              // the claim it cancels the queued row; after it, the opt-out reports the row as
              // in flight, and every provider call re-checks the opt-out first (its `started`
              // row commits under the same contact lock), so nothing is called after it commits.
              const claim = await ctx.db((tx) => claimOutbound({ tx, ctx, outboundId }));
              if ('output' in claim) return claim;
              const { current, sentInStage } = claim;
              const message = { to: current.toE164, text: current.body, outboundId: current.id };
              let result: SendOutcome;
              try {
                result = claim.chain
                  ? await sendThroughChain({ ctx, chain: claim.chain, current, message })
                  : { ...(await sendThroughProvider(ctx, providerFor(ctx), current)), provider: SANDBOX_PROVIDER };
              } catch (error) {
                if (error instanceof SendStoppedError) {
                  await ctx.db((tx) => cancelOutbound(tx, current.id, error.message));
                  return { output: { outbound_id: current.id, status: 'cancelled', reason: error.message } };
                }
                // No provider took it: back to queued, so an opt-out during the retry's backoff
                // cancels it outright and the retry's claim checks everything again.
                if (error instanceof NoProviderTookItError) {
                  await ctx.db((tx) =>
                    tx.update(outboundMessages).set({ status: 'queued' }).where(and(eq(outboundMessages.id, current.id), eq(outboundMessages.status, 'sending'))),
                  );
                }
                throw error;
              }
              const outcome = await ctx.db((tx) => recordOutcome(tx, current, result, sentInStage));
              if ('refused' in outcome) throw new PermanentStepError(outcome.refused);
              return outcome;
            },
            noCompensation: { reason: 'a sent WhatsApp message cannot be unsent', escalate: true },
          },
        ],
      }),
    ],
  };

  type Claimed =
    | { output: Record<string, unknown> }
    | { current: OutboundMessageRow; sentInStage: string | null; chain: ProviderChain | undefined; configured: ConfiguredProvider[] };

  /**
   * The claim, in one short transaction: the deal (FOR SHARE) then the contact (FOR UPDATE),
   * the order an opt-out or a stage change takes them, so neither commits between these checks
   * and the row turning `sending`. A row already `sending` is an earlier try of this run that
   * stopped mid-call (a crash): it may be at the provider, so it is not re-checked here; the
   * provider layer finds an earlier answer, and re-checks the opt-out before any new call.
   */
  async function claimOutbound(args: { tx: TenantTx; ctx: StepContext<Input>; outboundId: string }): Promise<Claimed> {
    const { tx, ctx, outboundId } = args;
    const decisionId = ctx.input.decision_id;
    const [current] = await tx.select().from(outboundMessages).where(eq(outboundMessages.id, outboundId));
    if (!current) throw new Error(`outbound message ${outboundId} vanished`);
    if (current.dealId) await tx.execute(sql`SELECT 1 FROM deals WHERE id = ${current.dealId} FOR SHARE`);
    await tx.execute(sql`SELECT 1 FROM contacts WHERE id = ${current.contactId} FOR UPDATE`);
    const [locked] = await tx.select().from(outboundMessages).where(eq(outboundMessages.id, outboundId));
    if (!locked) throw new Error(`outbound message ${outboundId} vanished`);
    const cancel = async (reason: string) => {
      await cancelOutbound(tx, locked.id, reason);
      return { output: { outbound_id: locked.id, status: 'cancelled', reason } };
    };
    let sentInStage = locked.sentInStage;
    if (locked.status === 'queued') {
      // Opt-out, checked again at send time: the contact may have opted out while queued.
      if (await contactHasOptedOut(tx, locked.contactId)) {
        await cancelQueuedOutbound({ tx, contactId: locked.contactId, reason: OPTED_OUT_REASON });
        return { output: { outbound_id: locked.id, status: 'cancelled', reason: OPTED_OUT_REASON } };
      }
      // The stage, checked again too: a reply approved by a standing approval for an
      // early stage must not go out once the deal needs a human (or is closed).
      if (locked.dealId) {
        const [deal] = await tx.select({ stage: deals.stage }).from(deals).where(eq(deals.id, locked.dealId));
        sentInStage = deal?.stage ?? null;
        const stage = LIFECYCLE[(deal?.stage ?? 'new_lead') as DealStage];
        const [decision] = decisionId
          ? await tx.select({ standingApprovalId: decisions.standingApprovalId }).from(decisions).where(eq(decisions.id, decisionId))
          : [];
        if (!stage.outboundAllowed) return cancel(`deal is ${deal?.stage}: nothing is sent`);
        // The approval (standing approvals match on it) was for the stage in the payload.
        const approvedStage = ctx.input.payload.stage;
        if (approvedStage && deal?.stage !== approvedStage) return cancel(`deal moved from ${approvedStage} to ${deal?.stage} after the send was approved`);
        if (stage.outboundNeedsHuman && decision?.standingApprovalId) return cancel(`deal moved to ${deal?.stage}, which needs a human's approval`);
      }
      // The stage read under the locks is the stage the message is sent in, whenever the
      // provider answers: a stage change after this commit no longer stops it.
      await tx.update(outboundMessages).set({ status: 'sending', sentInStage }).where(and(eq(outboundMessages.id, locked.id), eq(outboundMessages.status, 'queued')));
    }
    if (locked.status === 'cancelled') return { output: { outbound_id: locked.id, status: 'cancelled', reason: locked.cancelReason } };
    if (locked.status === 'sent') return { output: { outbound_id: locked.id, status: 'sent', external_id: locked.externalId } };
    // A provider refused it for good on an earlier try, or it may be at a provider already: no retry changes that.
    if (locked.status === 'failed') throw new PermanentStepError(`outbound message ${locked.id} failed: ${locked.error}`);
    if (locked.status === 'delivery_unknown') throw new PermanentStepError(`outbound message ${locked.id}: ${locked.error}`);
    const configured = options.whatsapp ? await options.whatsapp.providersFor(tx, ctx.tenantId) : [];
    return { current: { ...locked, status: 'sending' }, sentInStage, chain: options.whatsapp?.chainFor(configured), configured };
  }
}

/** Cancels a message not yet handed to a provider (queued, or claimed and stopped before any call). */
async function cancelOutbound(tx: TenantTx, outboundId: string, reason: string): Promise<void> {
  await tx
    .update(outboundMessages)
    .set({ status: 'cancelled', cancelledAt: sql`now()`, cancelReason: reason })
    .where(and(eq(outboundMessages.id, outboundId), inArray(outboundMessages.status, ['queued', 'sending'])));
}

/** The provider's answer, recorded in a transaction of its own after the call. */
async function recordOutcome(
  tx: TenantTx,
  current: OutboundMessageRow,
  result: SendOutcome,
  sentInStage: string | null,
): Promise<{ output: Record<string, unknown> } | { refused: string }> {
  const providerName = result.provider ?? SANDBOX_PROVIDER;
  if (result.kind === 'unknown') {
    // At most once wins over delivery: the row says what is known, and the run fails with an
    // escalation (the step is irreversible) so a person checks with the lead and, if it never
    // arrived, sends it again as a new message.
    await tx
      .update(outboundMessages)
      .set({ status: 'delivery_unknown', provider: providerName, error: result.reason })
      .where(and(eq(outboundMessages.id, current.id), eq(outboundMessages.status, 'sending')));
    return { refused: result.reason };
  }
  if (result.kind === 'accepted') {
    await lockDeliveryStatus(tx, providerName, result.externalId);
    await tx
      .update(outboundMessages)
      .set({
        status: 'sent',
        provider: providerName,
        externalId: result.externalId,
        sentAt: sql`coalesce(${outboundMessages.sentAt}, now())`,
        deliveryStatus: sql`coalesce(${outboundMessages.deliveryStatus}, 'sent')`,
        ...(sentInStage ? { sentInStage } : {}),
      })
      .where(and(eq(outboundMessages.id, current.id), inArray(outboundMessages.status, ['sending', 'sent'])));
    await applyPendingStatuses(tx, providerName, result.externalId);
    return { output: { outbound_id: current.id, status: 'sent', provider: providerName, external_id: result.externalId } };
  }
  await tx
    .update(outboundMessages)
    .set({ status: 'failed', provider: providerName, error: `${result.code ? `${result.code}: ` : ''}${result.reason}` })
    .where(and(eq(outboundMessages.id, current.id), eq(outboundMessages.status, 'sending')));
  if (result.code && WINDOW_CODES.has(result.code)) {
    // Not a failure of the flow: the message is handled, as a draft a human finishes.
    const draftId = await draftForClosedWindow(tx, current, result.code, result.reason);
    return { output: { outbound_id: current.id, status: 'failed', code: result.code, draft_id: draftId } };
  }
  // Returned, not thrown: the 'failed' row must commit; the run then fails without retrying.
  return { refused: `provider ${providerName} refused the message for good: ${result.reason}` };
}

/** An opt-out (or a cancel) committed before the provider was called: the call is not made. */
export class SendStoppedError extends Error {
  override readonly name = 'SendStoppedError';
}

/** Every provider answered with a transient error: the flow retries the step with backoff. */
class NoProviderTookItError extends Error {
  override readonly name = 'NoProviderTookItError';
}

/**
 * The last check before a provider is called, in the transaction that records the call (the
 * `started` row, or nothing for the sandbox): it takes the contact row FOR SHARE, which an
 * opt-out holds FOR UPDATE while it commits. An opt-out committed first stops the call; one
 * committing after finds the row `sending` and reports it in flight.
 */
export async function assertStillSendable(tx: TenantTx, outboundId: string): Promise<void> {
  const [row] = await tx.select({ status: outboundMessages.status, contactId: outboundMessages.contactId }).from(outboundMessages).where(eq(outboundMessages.id, outboundId));
  if (!row) throw new SendStoppedError(`outbound message ${outboundId} does not exist`);
  await tx.execute(sql`SELECT 1 FROM contacts WHERE id = ${row.contactId} FOR SHARE`);
  if (await contactHasOptedOut(tx, row.contactId)) throw new SendStoppedError(OPTED_OUT_REASON);
  const [again] = await tx.select({ status: outboundMessages.status }).from(outboundMessages).where(eq(outboundMessages.id, outboundId));
  if (again?.status !== 'sending') throw new SendStoppedError(`outbound message ${outboundId} is ${again?.status ?? 'gone'}`);
}

/** Meta's 24-hour customer-service window: free text is refused outside it (131047). */
const WINDOW_CODES = new Set(['131047', 'outside_24h_window']);

type Message = { to: string; text: string; outboundId: string };

/** The sandbox (or a test's provider): one provider, no chain. A transient answer is retried by the flow. */
async function sendThroughProvider(ctx: StepContext<Input>, provider: WhatsAppProvider, current: OutboundMessageRow): Promise<SendResult> {
  return ctx.sideEffect('provider', async (idempotencyKey) => {
    await ctx.db((tx) => assertStillSendable(tx, current.id));
    const sent = await provider.send({ to: current.toE164, text: current.body, outboundId: current.id, idempotencyKey });
    // Not recorded as done, so the retry calls again under the same key.
    if (sent.kind === 'transient') throw new NoProviderTookItError(`provider ${provider.name}: transient failure: ${sent.reason}`);
    return sent;
  });
}

/**
 * The fallback chain, with no transaction open during any call; every attempt is recorded in
 * its own committed transaction (a `started` row BEFORE the call, so a crash mid-call leaves a
 * trace, written under the opt-out check of `assertStillSendable`). A resumed send whose
 * last attempt never got an answer is **delivery unknown**: the message may be at that
 * provider, which does not deduplicate on our key (none of the four does), so calling it or
 * another provider again could reach the customer twice. It is not sent again; the step
 * records it and the run fails with an escalation. (A `started` row whose request never left
 * the process, a crash between that commit and the write, counts as unknown too: we cannot
 * tell the two apart, and at most once is the promise.)
 * All providers transient → the step throws and the flow retries with backoff; after the
 * last attempt the run fails to a dead letter, whose replay sends once.
 */
async function sendThroughChain(options: {
  ctx: StepContext<Input>;
  chain: ProviderChain;
  current: OutboundMessageRow;
  message: Message;
}): Promise<SendOutcome> {
  const { ctx, current, message } = options;
  const payload = ctx.input.payload;
  const template = payload.whatsapp_template
    ? { name: payload.whatsapp_template.name, language: payload.whatsapp_template.language, parameters: payload.whatsapp_template.parameters }
    : undefined;
  return ctx.sideEffect('provider', async (idempotencyKey) => {
    // The rows an earlier, crashed try committed. A provider that already accepted this message
    // is the answer (the process died before the side effect was marked done): calling again
    // would reach the customer twice.
    const { earlier, lastWrote } = await ctx.db(async (tx) => ({
      earlier: await tx
        .select({ provider: whatsappSendAttempts.provider, outcome: whatsappSendAttempts.outcome, externalId: whatsappSendAttempts.externalId, startedAt: whatsappSendAttempts.startedAt })
        .from(whatsappSendAttempts)
        .where(and(eq(whatsappSendAttempts.outboundId, current.id), inArray(whatsappSendAttempts.outcome, ['started', 'accepted'])))
        .orderBy(desc(whatsappSendAttempts.startedAt)),
      lastWrote: await lastInboundAt(tx, current.contactId),
    }));
    const accepted = earlier.find((attempt) => attempt.outcome === 'accepted' && attempt.externalId);
    if (accepted) return { kind: 'accepted' as const, externalId: accepted.externalId as string, provider: accepted.provider };
    const unanswered = earlier.find((attempt) => attempt.outcome === 'started');
    if (unanswered) {
      return {
        kind: 'unknown' as const,
        provider: unanswered.provider,
        reason: `delivery unknown: handed to ${unanswered.provider} at ${unanswered.startedAt.toISOString()}, and the process stopped before its answer; not sent again (ask the lead, and send it again as a new message if it never arrived)`,
      };
    }
    const { result } = await options.chain.send({
      message: { ...message, idempotencyKey, template },
      lastInboundAt: lastWrote,
      onAttempt: attemptRecorder(ctx, current.id, { checkSendable: true }),
    });
    // Not recorded as done: the flow retries the whole chain under the same key (later, with backoff).
    if (result.kind === 'transient') throw new NoProviderTookItError(`no WhatsApp provider took the message (will retry): ${result.reason}`);
    return result;
  });
}

/**
 * Records the chain's attempts, each in its own committed transaction: a `started` row before
 * the provider is called (a crash mid-call leaves it unanswered, which a resumed send reads),
 * then its outcome. Skips have no `started` row and are inserted with their outcome.
 */
export function attemptRecorder(
  ctx: Pick<StepContext, 'db' | 'runId'>,
  outboundId: string | null,
  options: { checkSendable?: boolean } = {},
): (attempt: AttemptEvent) => Promise<void> {
  const started = new Map<string, string>();
  return async (attempt) => {
    if (attempt.outcome === 'started') {
      const [row] = await ctx.db(async (t) => {
        // Throws SendStoppedError when the contact opted out: the chain then calls nobody.
        if (options.checkSendable && outboundId) await assertStillSendable(t, outboundId);
        return t
          .insert(whatsappSendAttempts)
          .values({ outboundId, flowRunId: ctx.runId, provider: attempt.provider, outcome: 'started', startedAt: attempt.startedAt })
          .returning({ id: whatsappSendAttempts.id });
      });
      if (row) started.set(attempt.provider, row.id);
      return;
    }
    const values = {
      outcome: attempt.outcome,
      code: attempt.code ?? null,
      reason: attempt.reason ?? null,
      externalId: attempt.externalId ?? null,
      latencyMs: Math.round(attempt.latencyMs),
      finishedAt: new Date(),
    };
    const rowId = started.get(attempt.provider);
    started.delete(attempt.provider);
    await ctx.db(async (t) => {
      if (rowId) await t.update(whatsappSendAttempts).set(values).where(eq(whatsappSendAttempts.id, rowId));
      else await t.insert(whatsappSendAttempts).values({ ...values, outboundId, flowRunId: ctx.runId, provider: attempt.provider, startedAt: attempt.startedAt });
      // The answer to an earlier, unanswered call of the same message (a resumed send) settles that row too.
      if (outboundId) {
        await t
          .update(whatsappSendAttempts)
          .set({ outcome: attempt.outcome, reason: sql`coalesce(${whatsappSendAttempts.reason}, 'answered on resume')`, finishedAt: new Date() })
          .where(and(eq(whatsappSendAttempts.outboundId, outboundId), eq(whatsappSendAttempts.provider, attempt.provider), eq(whatsappSendAttempts.outcome, 'started')));
      }
    });
  };
}

/** When the contact last wrote (Meta's 24-hour window), or null if never. */
export async function lastInboundAt(tx: TenantTx, contactId: string): Promise<Date | null> {
  const [last] = await tx
    .select({ max: sql<Date | null>`max(${inboundMessages.receivedAt})` })
    .from(inboundMessages)
    .where(eq(inboundMessages.contactId, contactId));
  return last?.max ? new Date(last.max) : null;
}
