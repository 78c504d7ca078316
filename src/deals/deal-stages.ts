import { DEAL_STAGE_VALUES as STORED_STAGES } from '../db/schema.ts';

/**
 * The deal lifecycle (SPEC §3) as data. Transitions are checked here and then guarded in
 * SQL (`UPDATE … WHERE stage = $from`), so two concurrent moves cannot both win.
 */
export const DEAL_STAGES = {
  /** A lead that has not been spoken to yet. */
  new_lead: { terminal: false, next: ['qualifying', 'nurturing', 'meeting_booked', 'closed_lost', 'opted_out'] },
  /** Questions being asked: budget, decision maker, need, timeline. */
  qualifying: { terminal: false, next: ['qualified', 'nurturing', 'closed_lost', 'opted_out'] },
  /** Required qualification answers are in. */
  qualified: { terminal: false, next: ['meeting_booked', 'nurturing', 'proposal_sent', 'closed_lost', 'opted_out'] },
  /** Not now: kept warm with follow-ups. */
  nurturing: { terminal: false, next: ['qualifying', 'qualified', 'meeting_booked', 'closed_lost', 'opted_out'] },
  /** A meeting is on the calendar. */
  meeting_booked: { terminal: false, next: ['meeting_done', 'nurturing', 'closed_lost', 'opted_out'] },
  /** The meeting happened. */
  meeting_done: { terminal: false, next: ['proposal_sent', 'nurturing', 'meeting_booked', 'closed_lost', 'opted_out'] },
  /** A proposal went out. */
  proposal_sent: { terminal: false, next: ['negotiating', 'payment_requested', 'nurturing', 'closed_lost', 'opted_out'] },
  /** Terms are being discussed; outbound needs a human. */
  negotiating: { terminal: false, next: ['proposal_sent', 'payment_requested', 'closed_lost', 'opted_out'] },
  /** An invoice or payment link went out; outbound needs a human. */
  payment_requested: { terminal: false, next: ['pilot_active', 'closed_won', 'negotiating', 'closed_lost', 'opted_out'] },
  /** A paid pilot is running; outbound needs a human. */
  pilot_active: { terminal: false, next: ['closed_won', 'negotiating', 'closed_lost', 'opted_out'] },
  /** Won. Terminal. */
  closed_won: { terminal: true, next: [] },
  /** Lost. Terminal; a new deal may be opened for the same contact. */
  closed_lost: { terminal: true, next: [] },
  /** The contact asked to stop (PDPL). Terminal; nothing is ever sent again. */
  opted_out: { terminal: true, next: [] },
} as const satisfies Record<(typeof STORED_STAGES)[number], { terminal: boolean; next: readonly (typeof STORED_STAGES)[number][] }>;

export type DealStage = keyof typeof DEAL_STAGES;
/** In lifecycle order (the stored order; the keys above follow it, which the lifecycle test checks). */
export const DEAL_STAGE_VALUES: [DealStage, ...DealStage[]] = [...STORED_STAGES];

export function canTransition(from: DealStage, to: DealStage): boolean {
  const allowed: readonly string[] = DEAL_STAGES[from].next;
  return allowed.includes(to);
}
