import { and, count, desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { activities, deals } from '../db/schema.ts';
import { runDealScope } from '../deals/deal-scope.ts';
import { findDeal, formatSar, insertActivity } from '../deals/deals.store.ts';
import { defineFlow, PermanentStepError } from '../flows/flow-definition.ts';
import { actionFlowInput } from '../gateway/action-flow-input.ts';
import type { ActionPlugin, TaskRouter } from '../gateway/task-router.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { createSendWhatsAppPlugin } from '../whatsapp/outbound/send-whatsapp.plugin.ts';
import type { WhatsAppService } from '../whatsapp/outbound/whatsapp-service.ts';
import { createTestSendPlugin } from '../whatsapp/outbound/test-send.plugin.ts';

/**
 * The built-in plugin set: small class-A actions that exercise the whole fabric (gate,
 * router, durable flow, timeline) end to end. Later capabilities register theirs beside.
 */

const ZDealId = z.uuid({ message: 'must be a UUID' });

/** The run's deal, inside the scope of the caller who started the run (the gateway checked it too). */
async function requireDeal(tx: TenantTx, dealId: string, input: { deal_scope?: unknown }) {
  const deal = await findDeal(tx, dealId, runDealScope(input));
  // A deal of another tenant is invisible here (RLS), one of another owner out of scope: both fail
  // the same way. Permanent: no retry brings a deal back, and retrying only delays the dead letter.
  if (!deal) throw new PermanentStepError(`deal ${dealId} does not exist`);
  return deal;
}

const ZStatusUpdate = z.strictObject({
  deal_id: ZDealId,
  status: z.string().trim().min(1).max(100),
  note: z.string().trim().max(2000).optional(),
});
export const internalStatusUpdate: ActionPlugin = {
  action: 'internal_status_update',
  description: "Adds an internal status note to a deal's timeline.",
  payload: ZStatusUpdate,
  flows: [
    defineFlow({
      name: 'action:internal_status_update',
      version: '1',
      input: actionFlowInput(ZStatusUpdate),
      steps: [
        {
          name: 'record',
          run: async (ctx) => {
            const { payload, actor } = ctx.input;
            const activityId = await ctx.db(async (tx) => {
              await requireDeal(tx, payload.deal_id, ctx.input);
              const row = await insertActivity(tx, {
                dealId: payload.deal_id,
                type: 'internal_status_update',
                actor,
                data: { status: payload.status, ...(payload.note ? { note: payload.note } : {}), flow_run_id: ctx.runId },
                correlationId: payload._correlation_id,
              });
              return row.id;
            });
            return { output: { activity_id: activityId } };
          },
          noCompensation: { reason: 'the timeline is append-only; an internal note has no outside effect', escalate: false },
        },
      ],
    }),
  ],
};

const ZTag = z.strictObject({
  deal_id: ZDealId,
  tags: z.array(z.string().trim().min(1).max(50).regex(/^[\p{L}\p{N}_-]+$/u, 'letters, digits, _ and - only')).min(1).max(20),
});
export const tag: ActionPlugin = {
  action: 'tag',
  description: 'Adds tags to a deal.',
  payload: ZTag,
  flows: [
    defineFlow({
      name: 'action:tag',
      version: '1',
      input: actionFlowInput(ZTag),
      steps: [
        {
          name: 'apply',
          run: async (ctx) => {
            const { payload, actor } = ctx.input;
            const added = await ctx.db(async (tx) => {
              const deal = await requireDeal(tx, payload.deal_id, ctx.input);
              const fresh = [...new Set(payload.tags)].filter((t) => !deal.tags.includes(t));
              if (fresh.length === 0) return [];
              await tx.update(deals).set({ tags: [...deal.tags, ...fresh], updatedAt: sql`now()` }).where(eq(deals.id, deal.id));
              await insertActivity(tx, { dealId: deal.id, type: 'tagged', actor, data: { added: fresh, flow_run_id: ctx.runId }, correlationId: payload._correlation_id });
              return fresh;
            });
            // Remembered so a compensation removes exactly what this run added.
            return { state: { added }, output: { added } };
          },
          compensate: async (ctx) => {
            const added = (ctx.state.added as string[] | undefined) ?? [];
            if (added.length === 0) return;
            await ctx.db(async (tx) => {
              await tx
                .update(deals)
                .set({ tags: sql`ARRAY(SELECT t FROM unnest(${deals.tags}) AS t WHERE NOT (t = ANY(${added})))`, updatedAt: sql`now()` })
                .where(eq(deals.id, ctx.input.payload.deal_id));
              await insertActivity(tx, { dealId: ctx.input.payload.deal_id, type: 'untagged', actor: 'system:compensation', data: { removed: added, flow_run_id: ctx.runId }, correlationId: undefined });
            });
          },
        },
      ],
    }),
  ],
};

const ZSummarize = z.strictObject({ deal_id: ZDealId });
export const summarize: ActionPlugin = {
  action: 'summarize',
  description: "Summarises a deal and its timeline (deterministic; no LLM needed).",
  payload: ZSummarize,
  flows: [
    defineFlow({
      name: 'action:summarize',
      version: '1',
      input: actionFlowInput(ZSummarize),
      steps: [
        {
          name: 'collect',
          run: async (ctx) => {
            const facts = await ctx.db(async (tx) => {
              const deal = await requireDeal(tx, ctx.input.payload.deal_id, ctx.input);
              const counts = await tx
                .select({ type: activities.type, n: count() })
                .from(activities)
                .where(eq(activities.dealId, deal.id))
                .groupBy(activities.type);
              const [last] = await tx.select().from(activities).where(and(eq(activities.dealId, deal.id))).orderBy(desc(activities.id)).limit(1);
              return {
                title: deal.title,
                stage: deal.stage,
                value_sar: formatSar(deal.valueHalalas),
                tags: deal.tags,
                activity_counts: Object.fromEntries(counts.map((c) => [c.type, c.n])),
                last_activity: last ? { type: last.type, at: last.createdAt.toISOString() } : null,
                days_in_stage: Math.floor((Date.now() - deal.stageChangedAt.getTime()) / 86_400_000),
              };
            });
            return { state: { facts } };
          },
          noCompensation: { reason: 'reads only', escalate: false },
        },
        {
          name: 'compose',
          run: async (ctx) => {
            const f = ctx.state.facts as { title: string; stage: string; value_sar: string; days_in_stage: number; activity_counts: Record<string, number> };
            const changes = f.activity_counts.stage_changed ?? 0;
            const summary = {
              en: `${f.title}: ${f.stage.replaceAll('_', ' ')} for ${f.days_in_stage} day(s), ${f.value_sar} SAR, ${changes} stage change(s).`,
              ar: `${f.title}: المرحلة ${f.stage} منذ ${f.days_in_stage} يوم، القيمة ${f.value_sar} ريال، ${changes} تغيير مرحلة.`,
            };
            await ctx.db((tx) =>
              insertActivity(tx, { dealId: ctx.input.payload.deal_id, type: 'summarized', actor: ctx.input.actor, data: { summary, flow_run_id: ctx.runId }, correlationId: ctx.input.payload._correlation_id }),
            );
            return { output: { summary, facts: ctx.state.facts } };
          },
          noCompensation: { reason: 'the timeline is append-only; a summary has no outside effect', escalate: false },
        },
      ],
    }),
  ],
};

/** send_whatsapp with the sandbox provider (class B: every send needs an approval). */
/** The class-A plugins that need nothing but the database. */
export const BUILTIN_PLUGINS: readonly ActionPlugin[] = [internalStatusUpdate, tag, summarize];

/**
 * Registers the built-in plugins, send_whatsapp included: it sends through the tenant's
 * provider chain, or the sandbox when no provider is configured.
 *
 * @example
 * registerBuiltinPlugins(router, { whatsapp });
 */
export function registerBuiltinPlugins(router: TaskRouter, deps: { whatsapp: WhatsAppService }): void {
  for (const plugin of BUILTIN_PLUGINS) router.register(plugin);
  router.register(createSendWhatsAppPlugin({ whatsapp: deps.whatsapp }));
  router.register(createTestSendPlugin({ whatsapp: deps.whatsapp }));
}
