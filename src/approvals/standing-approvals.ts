import { z } from 'zod';
import { DEFAULT_BUSINESS_HOURS, describeBusinessHours, isWithinBusinessHours, ZBusinessHours, type BusinessHours } from '../os-settings/business-hours.ts';

/**
 * The conditions a standing approval may set. Every condition present must hold; a
 * condition absent does not restrict.
 */
export const ZStandingConditions = z.strictObject({
  /** The payload's `stage` (or `deal_stage`) must be one of these. */
  stages: z.array(z.string().min(1)).min(1).optional(),
  /** The payload must send an approved template (`template` or `template_id` set, no free `text`). */
  template_only: z.boolean().optional(),
  /** Fixed hours: days 0 = Sunday … 6 = Saturday, HH:MM times, an IANA zone. */
  hours: ZBusinessHours.optional(),
  /**
   * Only inside the tenant's business hours as currently set (PUT /os/settings), so the
   * approval follows the tenant's hours when they are edited.
   */
  business_hours: z.boolean().optional(),
  /** At most this many uses in any rolling hour. */
  max_per_hour: z.number().int().min(1).optional(),
});
export type TStandingConditions = z.infer<typeof ZStandingConditions>;



/**
 * Why a standing approval does not cover a call, or undefined when it does. `tenantHours`
 * is the tenant's current business hours, needed when a condition says `business_hours`.
 */
export function conditionMismatch(
  conditions: TStandingConditions,
  payload: Record<string, unknown>,
  now: Date,
  tenantHours: BusinessHours = DEFAULT_BUSINESS_HOURS,
): string | undefined {
  if (conditions.stages) {
    const stage = payload.stage ?? payload.deal_stage;
    if (typeof stage !== 'string' || !conditions.stages.includes(stage)) return `stage ${String(stage)} is not one of ${conditions.stages.join(', ')}`;
  }
  const template = payload.template ?? payload.template_id;
  if (conditions.template_only && (typeof template !== 'string' || payload.text !== undefined)) return 'only approved templates are covered';
  if (conditions.hours && !isWithinBusinessHours(now, conditions.hours)) return `outside ${describeBusinessHours(conditions.hours)}`;
  if (conditions.business_hours && !isWithinBusinessHours(now, tenantHours)) return `outside the tenant's business hours (${describeBusinessHours(tenantHours)})`;
  return undefined;
}
