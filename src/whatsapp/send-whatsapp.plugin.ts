import { and, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { findContact } from '../contacts/contacts.store.ts';
import { decisions, deals, outboundMessages } from '../db/schema.ts';
import { DEAL_STAGE_VALUES, type DealStage } from '../deals/deal-stages.ts';
import { LIFECYCLE, MissingTemplateVariableError, renderTemplate } from '../deals/lifecycle.ts';
import { defineFlow, type StepContext } from '../flows/flow-definition.ts';
import type { ActionPlugin } from '../gateway/task-router.ts';
import { findTemplateVersion, loadLifecycleConfig } from '../os-settings/os-settings.store.ts';
import { cancelQueuedOutbound, contactHasOptedOut } from './outbound.ts';
import type { WhatsAppProvider } from './provider.ts';
import { createSandboxProvider } from './sandbox-provider.ts';

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
    /** The deal's stage as the caller saw it; standing approvals match on it, so the flow checks it. */
    stage: z.enum(DEAL_STAGE_VALUES).optional(),
  })
  .refine((p) => p.text !== undefined || p.template_id !== undefined, { message: 'text or template_id is required', path: ['text'] })
  .refine((p) => p.stage === undefined || p.deal_id !== undefined, { message: 'stage needs deal_id', path: ['stage'] });
export type TSendWhatsApp = z.infer<typeof ZSendWhatsApp>;

type Input = { action: string; actor: string; payload: TSendWhatsApp & { _correlation_id?: string } };

/** The record step refused the send (opted out, unknown contact or template); not retried. */
export class OutboundRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefusedError';
  }
}

export const OPTED_OUT_REASON = 'opted_out';

/**
 * send_whatsapp (class B: the gateway requires an approval first). Two steps:
 * `record` queues the outbound row under the key `<runId>:send`, refusing a contact that has
 * opted out; `send` checks opt-out again at send time, then calls the provider once through
 * `ctx.sideEffect`, and records the outcome on the row.
 *
 * @example
 * router.register(createSendWhatsAppPlugin()); // sandbox provider
 */
export function createSendWhatsAppPlugin(options: { provider?: (ctx: StepContext<Input>) => WhatsAppProvider } = {}): ActionPlugin {
  const providerFor = options.provider ?? ((ctx: StepContext<Input>) => createSandboxProvider((work) => ctx.db(work)));
  return {
    action: 'send_whatsapp',
    description: 'Sends a WhatsApp message to a contact (never to one who opted out).',
    payload: ZSendWhatsApp,
    flows: [
      defineFlow<Input>({
        name: 'action:send_whatsapp',
        version: '1',
        steps: [
          {
            name: 'record',
            // A refusal is final; retrying would only refuse again.
            retry: { maxAttempts: 1 },
            run: async (ctx) => {
              const { payload } = ctx.input;
              const idempotencyKey = `${ctx.runId}:send`;
              const outboundId = await ctx.db(async (tx) => {
                const [existing] = await tx.select({ id: outboundMessages.id }).from(outboundMessages).where(eq(outboundMessages.idempotencyKey, idempotencyKey));
                if (existing) return existing.id;
                const contact = await findContact(tx, payload.contact_id);
                if (!contact) throw new OutboundRefusedError(`contact ${payload.contact_id} does not exist`);
                if (payload.deal_id) {
                  const [deal] = await tx.select({ contactId: deals.contactId, stage: deals.stage }).from(deals).where(eq(deals.id, payload.deal_id));
                  if (!deal || deal.contactId !== contact.id) throw new OutboundRefusedError(`deal ${payload.deal_id} does not exist for contact ${contact.id}`);
                  if (payload.stage && deal.stage !== payload.stage) throw new OutboundRefusedError(`deal ${payload.deal_id} is in stage ${deal.stage}, not ${payload.stage} as approved`);
                }
                if (await contactHasOptedOut(tx, contact.id)) throw new OutboundRefusedError(`contact ${contact.id} has opted out: nothing is sent to them`);
                const language = payload.language ?? (contact.preferredLanguage as 'ar' | 'en');
                let body = payload.text;
                let templateVersion: number | null = null;
                if (body === undefined) {
                  const templateId = payload.template_id as string;
                  const config = payload.template_version === undefined || payload.variables === undefined ? await loadLifecycleConfig(tx) : undefined;
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
              const decisionId = (ctx.input as { decision_id?: string }).decision_id;
              const provider = providerFor(ctx);
              // One transaction around the checks AND the call: it locks the deal (FOR SHARE) and
              // then the contact (FOR UPDATE), the same order an opt-out or a stage change takes
              // them, so neither can commit between our check and the provider call. Whatever
              // commits first wins: either the message went out before the opt-out / stage change,
              // or it is cancelled here. The price is that those changes wait for the provider call.
              return ctx.db(async (tx) => {
                const [current] = await tx.select().from(outboundMessages).where(eq(outboundMessages.id, outboundId));
                if (!current) throw new Error(`outbound message ${outboundId} vanished`);
                if (current.dealId) await tx.execute(sql`SELECT 1 FROM deals WHERE id = ${current.dealId} FOR SHARE`);
                await tx.execute(sql`SELECT 1 FROM contacts WHERE id = ${current.contactId} FOR UPDATE`);
                const cancel = async (reason: string) => {
                  await tx
                    .update(outboundMessages)
                    .set({ status: 'cancelled', cancelledAt: sql`now()`, cancelReason: reason })
                    .where(and(eq(outboundMessages.id, current.id), eq(outboundMessages.status, 'queued')));
                  return { output: { outbound_id: current.id, status: 'cancelled', reason } };
                };
                let sentInStage: string | null = null;
                if (current.status === 'queued') {
                  // Opt-out, checked again at send time: the contact may have opted out while queued.
                  if (await contactHasOptedOut(tx, current.contactId)) {
                    await cancelQueuedOutbound({ tx, contactId: current.contactId, reason: OPTED_OUT_REASON });
                    return { output: { outbound_id: current.id, status: 'cancelled', reason: OPTED_OUT_REASON } };
                  }
                  // The stage, checked again too: a reply approved by a standing approval for an
                  // early stage must not go out once the deal needs a human (or is closed).
                  if (current.dealId) {
                    const [deal] = await tx.select({ stage: deals.stage }).from(deals).where(eq(deals.id, current.dealId));
                    sentInStage = deal?.stage ?? null;
                    const stage = LIFECYCLE[(deal?.stage ?? 'new_lead') as DealStage];
                    const [decision] = decisionId
                      ? await tx.select({ standingApprovalId: decisions.standingApprovalId }).from(decisions).where(eq(decisions.id, decisionId))
                      : [];
                    if (!stage.outboundAllowed) return cancel(`deal is ${deal?.stage}: nothing is sent`);
                    // The approval (standing approvals match on it) was for the stage in the payload.
                    const approvedStage = (ctx.input as { payload?: { stage?: string } }).payload?.stage;
                    if (approvedStage && deal?.stage !== approvedStage) return cancel(`deal moved from ${approvedStage} to ${deal?.stage} after the send was approved`);
                    if (stage.outboundNeedsHuman && decision?.standingApprovalId) return cancel(`deal moved to ${deal?.stage}, which needs a human's approval`);
                  }
                }
                if (current.status === 'cancelled') return { output: { outbound_id: current.id, status: 'cancelled', reason: current.cancelReason } };
                if (current.status === 'sent') return { output: { outbound_id: current.id, status: 'sent', external_id: current.externalId } };
                if (current.status === 'failed') throw new Error(`outbound message ${current.id} failed: ${current.error}`);

                const result = await ctx.sideEffect('provider', async (idempotencyKey) => {
                  const sent = await provider.send({ to: current.toE164, text: current.body, idempotencyKey, outboundId: current.id });
                  // Not recorded as done, so the retry calls again under the same key.
                  if (sent.kind === 'transient') throw new Error(`provider ${provider.name}: transient failure: ${sent.reason}`);
                  return sent;
                });
                if (result.kind === 'accepted') {
                  await tx
                    .update(outboundMessages)
                    .set({
                      status: 'sent',
                      provider: provider.name,
                      externalId: result.externalId,
                      sentAt: sql`coalesce(${outboundMessages.sentAt}, now())`,
                      ...(sentInStage ? { sentInStage } : {}),
                    })
                    .where(and(eq(outboundMessages.id, current.id), inArray(outboundMessages.status, ['queued', 'sent'])));
                  return { output: { outbound_id: current.id, status: 'sent', external_id: result.externalId } };
                }
                await tx
                  .update(outboundMessages)
                  .set({ status: 'failed', provider: provider.name, error: result.reason })
                  .where(and(eq(outboundMessages.id, current.id), eq(outboundMessages.status, 'queued')));
                throw new Error(`provider ${provider.name} refused the message for good: ${result.reason}`);
              });
            },
            noCompensation: { reason: 'a sent WhatsApp message cannot be unsent', escalate: true },
          },
        ],
      }),
    ],
  };
}
