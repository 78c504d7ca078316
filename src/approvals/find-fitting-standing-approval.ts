import { and, count, eq, gt, isNull, sql } from 'drizzle-orm';
import { approvalTokenUses, standingApprovals } from '../db/schema.ts';
import type { BusinessHours } from '../os-settings/business-hours.ts';
import { currentOsSettings } from '../os-settings/os-settings.store.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { StandingApprovalRow } from './approvals.store.ts';
import { conditionMismatch, ZStandingConditions } from './standing-approvals.ts';

export interface FindFittingStandingApprovalOptions {
  tx: TenantTx;
  action: string;
  payload: Record<string, unknown>;
  now: Date;
}

/**
 * The first live standing approval for this action whose conditions the call meets, with
 * its rate cap checked against the tokens it minted in the last hour.
 */
export async function findFittingStandingApproval(options: FindFittingStandingApprovalOptions): Promise<{ fit: StandingApprovalRow | undefined; misses: string[] }> {
  const { tx, action, payload, now } = options;
  const candidates = await tx
    .select()
    .from(standingApprovals)
    .where(and(eq(standingApprovals.action, action), isNull(standingApprovals.revokedAt), gt(standingApprovals.expiresAt, now)))
    .orderBy(standingApprovals.id)
    // Serialises concurrent uses of one standing approval, so its rate cap cannot be overrun.
    .for('update');
  const misses: string[] = [];
  let tenantHours: BusinessHours | undefined;
  for (const candidate of candidates) {
    const conditions = ZStandingConditions.parse(candidate.conditions);
    if (conditions.business_hours && !tenantHours) tenantHours = (await currentOsSettings(tx)).business_hours;
    const mismatch = conditionMismatch(conditions, payload, now, tenantHours);
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
