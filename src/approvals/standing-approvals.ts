import { and, count, eq, gt, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { approvalTokenUses, standingApprovals } from '../db/schema.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';

/**
 * The conditions a standing approval may set. Every condition present must hold; a
 * condition absent does not restrict.
 */
export const ZStandingConditions = z.strictObject({
  /** The payload's `stage` (or `deal_stage`) must be one of these. */
  stages: z.array(z.string().min(1)).min(1).optional(),
  /** The payload must send an approved template (`template` or `template_id` set, no free `text`). */
  template_only: z.boolean().optional(),
  /** Local business hours: days 0 = Sunday … 6 = Saturday, HH:MM times, an IANA zone. */
  hours: z
    .strictObject({
      days: z.array(z.number().int().min(0).max(6)).min(1),
      start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM'),
      end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM'),
      timezone: z.string().default('Asia/Riyadh'),
    })
    .optional(),
  /** At most this many uses in any rolling hour. */
  max_per_hour: z.number().int().min(1).optional(),
});
export type TStandingConditions = z.infer<typeof ZStandingConditions>;

export type StandingApprovalRow = typeof standingApprovals.$inferSelect;

/** Why a standing approval does not cover a call, or undefined when it does. */
export function conditionMismatch(conditions: TStandingConditions, payload: Record<string, unknown>, now: Date): string | undefined {
  if (conditions.stages) {
    const stage = payload.stage ?? payload.deal_stage;
    if (typeof stage !== 'string' || !conditions.stages.includes(stage)) return `stage ${String(stage)} is not one of ${conditions.stages.join(', ')}`;
  }
  const template = payload.template ?? payload.template_id;
  if (conditions.template_only && (typeof template !== 'string' || payload.text !== undefined)) return 'only approved templates are covered';
  if (conditions.hours) {
    const { days, start, end, timezone } = conditions.hours;
    const local = localClock(now, timezone);
    const minutes = local.hour * 60 + local.minute;
    const [sh, sm] = start.split(':').map(Number) as [number, number];
    const [eh, em] = end.split(':').map(Number) as [number, number];
    if (!days.includes(local.weekday) || minutes < sh * 60 + sm || minutes >= eh * 60 + em) return `outside ${start}–${end} ${timezone}`;
  }
  return undefined;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
function localClock(at: Date, timezone: string): { weekday: number; hour: number; minute: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(at)
      .map((part) => [part.type, part.value]),
  );
  return { weekday: WEEKDAYS.indexOf(parts.weekday ?? ''), hour: Number(parts.hour), minute: Number(parts.minute) };
}

/**
 * The first live standing approval for this action whose conditions the call meets, with
 * its rate cap checked against the tokens it minted in the last hour.
 */
export async function findFittingStandingApproval(options: {
  tx: TenantTx;
  action: string;
  payload: Record<string, unknown>;
  now: Date;
}): Promise<{ fit: StandingApprovalRow | undefined; misses: string[] }> {
  const { tx, action, payload, now } = options;
  const candidates = await tx
    .select()
    .from(standingApprovals)
    .where(and(eq(standingApprovals.action, action), isNull(standingApprovals.revokedAt), gt(standingApprovals.expiresAt, now)))
    .orderBy(standingApprovals.id)
    // Serialises concurrent uses of one standing approval, so its rate cap cannot be overrun.
    .for('update');
  const misses: string[] = [];
  for (const candidate of candidates) {
    const conditions = ZStandingConditions.parse(candidate.conditions);
    const mismatch = conditionMismatch(conditions, payload, now);
    if (mismatch) {
      misses.push(`${candidate.id}: ${mismatch}`);
      continue;
    }
    if (conditions.max_per_hour) {
      const [used] = await tx
        .select({ n: count() })
        .from(approvalTokenUses)
        .where(and(eq(approvalTokenUses.standingApprovalId, candidate.id), sql`${approvalTokenUses.usedAt} > ${now.toISOString()}::timestamptz - interval '1 hour'`));
      if ((used?.n ?? 0) >= conditions.max_per_hour) {
        misses.push(`${candidate.id}: rate cap of ${conditions.max_per_hour}/hour reached`);
        continue;
      }
    }
    return { fit: candidate, misses };
  }
  return { fit: undefined, misses };
}
