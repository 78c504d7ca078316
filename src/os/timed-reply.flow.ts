import { and, eq, sql } from 'drizzle-orm';
import { findContact } from '../contacts/contacts.store.ts';
import { deals, drafts, flowRuns } from '../db/schema.ts';
import { z } from 'zod';
import { DEAL_STAGE_VALUES } from '../deals/deal-stages.ts';
import { chooseTemplate, missingVariables, renderTemplate, TEMPLATE_LANGUAGES, type TemplateLanguage } from '../deals/lifecycle.ts';
import { cancelFlow } from '../flows/flow-commands.ts';
import { defineFlow, type FlowDefinition } from '../flows/flow-definition.ts';
import { TERMINAL_STATUSES } from '../flows/flows.store.ts';
import { executeAction } from '../gateway/execute-action.ts';
import type { TaskRouter } from '../gateway/task-router.ts';
import { isWithinBusinessHours, nextBusinessOpening } from '../os-settings/business-hours.ts';
import { findTemplateVersion, loadLifecycleConfig } from '../os-settings/os-settings.store.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { contactHasOptedOut } from '../whatsapp/outbound/outbound.store.ts';

export const TIMED_REPLY_FLOW = 'os:timed_reply';
const VERSION = '1';

/**
 * Why a reply waits for a timer:
 * - `out_of_hours`: a templated reply decided outside business hours, sent at the next opening;
 * - `follow_up`: not_now moved the deal to nurturing; the follow-up template goes out when the timer fires.
 */
export const TIMED_REPLY_KINDS = ['out_of_hours', 'follow_up'] as const;
export type TimedReplyKind = (typeof TIMED_REPLY_KINDS)[number];

export const ZTimedReplyInput = z.object({
  kind: z.enum(TIMED_REPLY_KINDS),
  contact_id: z.uuid(),
  deal_id: z.uuid(),
  /** The stage the reply was decided for: a deal that moved on since gets no stale reply. */
  stage: z.enum(DEAL_STAGE_VALUES),
  fire_at: z.iso.datetime({ offset: true }),
  /** out_of_hours: the decided reply, sent exactly (its template version and values). */
  reply: z
    .object({
      template_id: z.string().min(1),
      template_version: z.number().int().min(0),
      variables: z.record(z.string(), z.string()),
      language: z.enum(TEMPLATE_LANGUAGES),
    })
    .optional(),
  actor: z.string().min(1),
  correlation_id: z.string().min(1),
});
export type TimedReplyInput = z.infer<typeof ZTimedReplyInput>;

export interface TimedReplyDeps {
  router: TaskRouter;
  masterKey: Buffer;
  /** The clock for business hours and the gateway (tests pin it; the timer itself is the engine's). */
  now?: () => Date;
}

/**
 * The durable timer behind out-of-hours replies and not-now follow-ups. Three steps:
 * `wait` sleeps until `fire_at`; `open_hours` sleeps again until the next opening if the
 * tenant's hours (as they are THEN) say closed; `send` re-checks that the deal is still where
 * the reply was meant for and the contact has not opted out, then asks the gateway — the
 * standing approval is checked at that moment, not when the timer was set. A refusal leaves
 * a draft for a human instead. Opt-out and a newer message cancel the run (see
 * {@link cancelTimedReplies}); the send flow checks opt-out again under its locks anyway.
 */
export function createTimedReplyFlow(deps: TimedReplyDeps): FlowDefinition<TimedReplyInput> {
  const now = deps.now ?? (() => new Date());
  return defineFlow({
    name: TIMED_REPLY_FLOW,
    version: VERSION,
    input: ZTimedReplyInput,
    steps: [
      {
        name: 'wait',
        run: async (ctx) => ({ sleepUntil: new Date(ctx.input.fire_at) }),
        noCompensation: { reason: 'a timer has no effect to undo', escalate: false },
      },
      {
        name: 'open_hours',
        run: async (ctx) => {
          const { settings } = await ctx.db((tx) => loadLifecycleConfig(tx, ctx.tenantId));
          const at = now();
          if (isWithinBusinessHours(at, settings.business_hours)) return;
          return { sleepUntil: nextBusinessOpening(at, settings.business_hours), state: { hours_version: settings.version } };
        },
        noCompensation: { reason: 'a timer has no effect to undo', escalate: false },
      },
      {
        name: 'send',
        // One transaction: the checks, the gateway's decision (and the send run it starts) or the
        // draft commit together. Run twice (a crash before the checkpoint), the gateway finds its
        // run by the idempotency key and the draft insert finds its row by origin_run_id.
        run: async (ctx) =>
          ctx.db(async (tx) => {
            const { input } = ctx;
            const [deal] = await tx.select({ stage: deals.stage }).from(deals).where(eq(deals.id, input.deal_id));
            if (!deal) return { output: { status: 'skipped', reason: `deal ${input.deal_id} no longer exists` } };
            if (await contactHasOptedOut(tx, input.contact_id)) return { output: { status: 'skipped', reason: 'the contact opted out' } };
            if (deal.stage !== input.stage) return { output: { status: 'skipped', reason: `the deal moved from ${input.stage} to ${deal.stage}` } };

            const config = await loadLifecycleConfig(tx, ctx.tenantId);
            let reply = input.reply;
            let why = '';
            if (!reply) {
              const contact = await findContact(tx, input.contact_id);
              const language = (contact?.preferredLanguage ?? 'ar') as TemplateLanguage;
              const variables: Record<string, string> = {};
              for (const [key, value] of Object.entries(config.settings.template_variables)) if (typeof value === 'string') variables[key] = value;
              if (contact?.name) variables.name = contact.name;
              if (contact?.company) variables.company = contact.company;
              const choice = chooseTemplate('follow_up', language, variables, config.templates);
              if (choice.usable) {
                const used = Object.fromEntries(choice.template.variables.map((name) => [name, variables[name] as string]));
                reply = { template_id: choice.template.id, template_version: choice.template.version, variables: used, language };
              } else {
                why = `no usable follow_up template in ${language} (missing ${choice.missing.join(', ') || 'a variant'})`;
              }
            }

            let approvalRequestId: string | null = null;
            let draftText: string | null = null;
            if (reply) {
              const outcome = await executeAction({
                tx,
                tenantId: ctx.tenantId,
                request: {
                  actor: input.actor,
                  action: 'send_whatsapp',
                  payload: {
                    contact_id: input.contact_id,
                    deal_id: input.deal_id,
                    template_id: reply.template_id,
                    template_version: reply.template_version,
                    variables: reply.variables,
                    stage: input.stage,
                    language: reply.language,
                  },
                  correlationId: input.correlation_id,
                  idempotencyKey: `timed:${ctx.runId}`,
                },
                deps: { router: deps.router, masterKey: deps.masterKey, logger: ctx.logger, now },
              });
              if (outcome.result === 'accepted') {
                return { output: { status: 'sent_to_gateway', decision_id: outcome.decisionId, flow_run_id: outcome.flowRunId } };
              }
              approvalRequestId = outcome.approvalRequestId;
              why = `the gateway answered ${outcome.result}: ${outcome.reason}`;
              const template = await findTemplateVersion(tx, reply.template_id, reply.template_version);
              draftText = template && missingVariables(template, reply.variables).length === 0 ? renderTemplate(template, reply.variables) : null;
            }
            const [draft] = await tx
              .insert(drafts)
              .values({
                contactId: input.contact_id,
                dealId: input.deal_id,
                text: draftText,
                templateId: reply?.template_id ?? null,
                language: reply?.language ?? 'ar',
                reason: `${input.kind === 'follow_up' ? 'not-now follow-up' : 'out-of-hours reply'} due ${input.fire_at}: ${why}; a human decides`,
                approvalRequestId,
                originRunId: ctx.runId,
              })
              .onConflictDoNothing()
              .returning({ id: drafts.id });
            const draftId = draft?.id ?? (await tx.select({ id: drafts.id }).from(drafts).where(eq(drafts.originRunId, ctx.runId)))[0]?.id;
            return { output: { status: 'drafted', draft_id: draftId, reason: why } };
          }),
        noCompensation: { reason: 'the send run it starts compensates its own steps; a draft stays for a human to decide', escalate: false },
      },
    ],
  });
}

/**
 * Cancels the contact's pending timed replies (all of them, or one deal's), in the caller's
 * transaction: opt-out cancels every one of the contact's; a newer message on a deal
 * supersedes that deal's. Returns the runs asked to stop.
 */
export async function cancelTimedReplies(options: { tx: TenantTx; contactId: string; dealId?: string }): Promise<string[]> {
  const { tx, contactId, dealId } = options;
  const pending = await tx
    .select({ id: flowRuns.id })
    .from(flowRuns)
    .where(
      and(
        eq(flowRuns.flowName, TIMED_REPLY_FLOW),
        sql`${flowRuns.input}->>'contact_id' = ${contactId}`,
        dealId ? sql`${flowRuns.input}->>'deal_id' = ${dealId}` : undefined,
        // Constants, not parameters: the partial index flow_runs__timed_reply_contact_idx must match.
        sql`${flowRuns.status} NOT IN (${sql.raw(TERMINAL_STATUSES.map((status) => `'${status}'`).join(', '))})`,
        eq(flowRuns.cancelRequested, false),
      ),
    )
    .for('update');
  for (const run of pending) await cancelFlow({ tx, runId: run.id });
  return pending.map((run) => run.id);
}
