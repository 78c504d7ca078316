import { and, eq, sql } from 'drizzle-orm';
import { idempotencyKeys } from '../db/schema.ts';
import { z } from 'zod';
import { readJsonColumn } from '../db/json-column.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';

/** The replayed response's headers, as the key stored them (names to values). */
const ZStoredHeaders = z.record(z.string(), z.string());

export interface StoredResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
}

export type ClaimResult =
  | { kind: 'claimed' }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'mismatch' }
  | { kind: 'in_progress' };

/**
 * Claims a key for this transaction. The INSERT waits on the unique index while another
 * transaction holds the same key uncommitted; when that one commits we see its stored
 * response (replay), when it rolls back we claim the key ourselves. An expired key is taken
 * over as if it were new.
 */
export async function claimIdempotencyKey(options: {
  tx: TenantTx;
  /** The caller (token `sub`): keys are per tenant (RLS) and per subject. */
  subject: string;
  key: string;
  fingerprint: string;
  method: string;
  path: string;
  ttlHours: number;
}): Promise<ClaimResult> {
  const { tx, subject, key, fingerprint, method, path, ttlHours } = options;
  const expiresAt = sql`now() + make_interval(hours => ${ttlHours})`;
  const claimed = await tx
    .insert(idempotencyKeys)
    .values({ subject, key, fingerprint, method, path, expiresAt })
    .onConflictDoUpdate({
      target: [idempotencyKeys.tenantId, idempotencyKeys.subject, idempotencyKeys.key],
      set: {
        fingerprint,
        method,
        path,
        responseStatus: null,
        responseBody: null,
        responseHeaders: null,
        createdAt: sql`now()`,
        expiresAt,
      },
      setWhere: sql`${idempotencyKeys.expiresAt} <= now()`,
    })
    .returning({ key: idempotencyKeys.key });
  if (claimed.length > 0) return { kind: 'claimed' };

  const [existing] = await tx
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.subject, subject), eq(idempotencyKeys.key, key)));
  if (!existing) return { kind: 'in_progress' };
  if (existing.fingerprint !== fingerprint) return { kind: 'mismatch' };
  if (existing.responseStatus === null || existing.responseBody === null) return { kind: 'in_progress' };
  return {
    kind: 'replay',
    response: { status: existing.responseStatus, body: existing.responseBody, headers: readJsonColumn(ZStoredHeaders, existing.responseHeaders ?? {}, 'idempotency_keys.response_headers') },
  };
}

export async function releaseIdempotencyKey(options: { tx: TenantTx; subject: string; key: string }): Promise<void> {
  await options.tx.delete(idempotencyKeys).where(and(eq(idempotencyKeys.subject, options.subject), eq(idempotencyKeys.key, options.key)));
}

export async function recordIdempotentResponse(options: { tx: TenantTx; subject: string; key: string; response: StoredResponse }): Promise<void> {
  await options.tx
    .update(idempotencyKeys)
    .set({ responseStatus: options.response.status, responseBody: options.response.body, responseHeaders: options.response.headers })
    .where(and(eq(idempotencyKeys.subject, options.subject), eq(idempotencyKeys.key, options.key)));
}
