import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { canaryMemberships, canaryRollouts } from '../db/schema.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';

/**
 * Which version of a subject (`policy`, `flow:<name>`) a tenant gets: an explicit canary
 * membership first, else a percentage rollout by a stable hash of tenant and subject (the
 * same tenant stays in the same bucket as the percentage grows), else undefined: the default.
 */
export async function resolveCanaryVersion(tx: TenantTx, tenantId: string, subject: string): Promise<string | undefined> {
  const [member] = await tx.select({ version: canaryMemberships.version }).from(canaryMemberships).where(eq(canaryMemberships.subject, subject));
  if (member) return member.version;
  const rollouts = await tx.select().from(canaryRollouts).where(eq(canaryRollouts.subject, subject));
  const bucket = stableBucket(tenantId, subject);
  // Highest version first, so overlapping rollouts resolve the same way every time.
  const hit = rollouts.sort((a, b) => b.version.localeCompare(a.version)).find((rollout) => bucket < rollout.percentage);
  return hit?.version;
}

/** 0–99, from SHA-256 of tenant and subject. */
export function stableBucket(tenantId: string, subject: string): number {
  return createHash('sha256').update(`${tenantId}:${subject}`).digest().readUInt32BE(0) % 100;
}
