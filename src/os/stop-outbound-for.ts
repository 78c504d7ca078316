import { cancelTimedReplies } from './timed-reply.flow.ts';
import type { StoppedOutbound } from '../deals/transition-deal-stage.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { cancelQueuedOutbound, inFlightOutbound, OPTED_OUT_REASON } from '../whatsapp/outbound/outbound.store.ts';

export interface StopOutboundForOptions {
  tx: TenantTx;
  contactId: string;
}

/**
 * What an opt-out stops, in the caller's transaction (PDPL Art. 25, SPEC §3): every queued
 * outbound message of the contact and every timed reply (out-of-hours replies, not-now
 * follow-ups) on any of its deals. Called by the one stage-change path, so it holds however
 * the deal reached opted_out (a message, or a person). Sends are refused again at send time.
 * A message a send step already claimed (`sending`, maybe at the provider) cannot be taken back:
 * it is reported in `inFlightOutboundIds`, and no further provider is called for it.
 *
 * @example
 * const stopped = await stopOutboundFor({ tx, contactId });
 */
export async function stopOutboundFor(options: StopOutboundForOptions): Promise<StoppedOutbound> {
  const outboundIds = await cancelQueuedOutbound({ tx: options.tx, contactId: options.contactId, reason: OPTED_OUT_REASON });
  const inFlightOutboundIds = await inFlightOutbound(options.tx, options.contactId);
  const timedReplyRunIds = await cancelTimedReplies({ tx: options.tx, contactId: options.contactId });
  return { outboundIds, inFlightOutboundIds, timedReplyRunIds };
}

export type { StoppedOutbound };
