import { and, eq, sql } from 'drizzle-orm';
import { deals } from '../db/schema.ts';
import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { canTransition, DEAL_STAGES, type DealStage } from './deal-stages.ts';
import type { TActivity, TDeal, TTransitionRequest } from './deals.schemas.ts';
import { findDeal, insertActivity, scopeCondition, toActivity, toDeal, type DealScope } from './deals.store.ts';

/** What stopping a contact's outreach did; the stage change records it on the deal's timeline. */
export interface StoppedOutbound {
  /** Queued messages cancelled. */
  outboundIds: string[];
  /** Messages already claimed by a send (at or about to be at a provider): reported, not cancelled. */
  inFlightOutboundIds: string[];
  timedReplyRunIds: string[];
}

/**
 * Stops everything queued or scheduled for a contact, in the caller's transaction. Deals do not
 * know what can be queued (outbound messages, timed replies live in domains built on deals), so
 * the composition root passes src/os/opt-out.ts's `stopOutboundFor` in.
 */
export type StopOutreach = (options: { tx: TenantTx; contactId: string }) => Promise<StoppedOutbound>;

export interface TransitionDealStageOptions {
  tx: TenantTx;
  dealId: string;
  input: TTransitionRequest;
  actor: string;
  scope: DealScope;
  correlationId?: string;
  /** Called when the deal moves into opted_out; required, so no path can forget the opt-out. */
  stopOutreach: StopOutreach;
}

/**
 * The only way a deal's stage changes. The lifecycle table decides whether `from → to` is
 * allowed; the UPDATE is guarded by `stage = from`, so when two requests race from the same
 * stage the second updates zero rows and gets 409 instead of silently overwriting. Into
 * opted_out it also stops the contact's queued messages and timed replies (same transaction).
 */
export async function transitionDealStage(
  options: TransitionDealStageOptions,
): Promise<{ deal: TDeal; activity: TActivity; stopped?: StoppedOutbound }> {
  const { tx, dealId, input, actor, scope, correlationId, stopOutreach } = options;
  const current = await findDeal(tx, dealId, scope);
  if (!current) throw new AppError('not_found', `Deal ${dealId} does not exist`);
  const from = (input.from ?? current.stage) as DealStage;
  if (input.from && input.from !== current.stage) {
    throw new AppError('conflict', `The deal is in stage ${current.stage}, not ${input.from}`, { extra: { current_stage: current.stage } });
  }
  if (!canTransition(from, input.to)) {
    const allowed = DEAL_STAGES[from].next;
    throw new AppError(
      'stage_transition_not_allowed',
      DEAL_STAGES[from].terminal
        ? `${from} is a terminal stage; the deal cannot move`
        : `A deal cannot move from ${from} to ${input.to}; allowed: ${allowed.join(', ')}`,
      { extra: { from, to: input.to, allowed: [...allowed] } },
    );
  }
  const [row] = await tx
    .update(deals)
    .set({ stage: input.to, stageChangedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(deals.id, dealId), eq(deals.stage, from), scopeCondition(scope)))
    .returning();
  if (!row) {
    throw new AppError('conflict', `The deal left stage ${from} while this request was running; reload and retry`);
  }
  // Opt-out stops everything queued or scheduled for the contact, in this same transaction.
  const stopped = input.to === 'opted_out' ? await stopOutreach({ tx, contactId: row.contactId }) : undefined;
  const activity = await insertActivity(tx, {
    dealId,
    type: 'stage_changed',
    actor,
    data: {
      from,
      to: input.to,
      ...(input.reason ? { reason: input.reason } : {}),
      ...(stopped ? { cancelled_outbound: stopped.outboundIds.length, cancelled_timed_replies: stopped.timedReplyRunIds.length } : {}),
      // Already at a provider when the opt-out committed: on the record, since it cannot be taken back.
      ...(stopped?.inFlightOutboundIds.length ? { in_flight_outbound_ids: stopped.inFlightOutboundIds } : {}),
    },
    correlationId,
  });
  return { deal: toDeal(row), activity: toActivity(activity), ...(stopped ? { stopped } : {}) };
}
