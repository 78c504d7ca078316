import { createHash, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type pg from 'pg';
import { openSecret, sealSecret } from '../../crypto/envelope.ts';
import { whatsappWebhookKeys } from '../../db/schema.ts';
import { TenantCache } from '../../tenancy/tenant-cache.ts';
import type { TenantTx } from '../../tenancy/with-tenant.ts';

/**
 * The tenant's webhook key: the unguessable part of its webhook URLs
 * (`/webhooks/whatsapp/{provider}/{key}`). It identifies the tenant before any tenant is known,
 * and for providers without a signature (Ultramsg, Green API and Fonnte without their optional
 * secrets) it is the only proof a request is authentic, so it is treated as a credential:
 * stored as a SHA-256 for the lookup and sealed for reading the URLs back, never logged.
 */

/** 32 random bytes in base64url: 43 characters, no padding. */
export const WEBHOOK_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

const aad = (tenantId: string) => `whatsapp-webhook-key:${tenantId}`;

/**
 * The lookup form of a key. Only the hash reaches SQL, so a query log never holds a key.
 *
 * @example
 * webhookKeySha256('abc') // 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
 */
export function webhookKeySha256(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export interface WebhookKey {
  key: string;
  createdAt: Date;
  /** False when an existing key was returned unchanged. */
  created: boolean;
}

export interface EnsureWebhookKeyOptions {
  tx: TenantTx;
  tenantId: string;
  masterKey: Buffer;
  actor: string;
  /** Replace an existing key: the old URLs stop working at once (404). */
  rotate: boolean;
}

/**
 * Creates the tenant's webhook key, returns the existing one unchanged, or (with `rotate`)
 * replaces it.
 *
 * Two first calls racing (two admins, a double click) must hand out the SAME key: an upsert
 * would let the second overwrite the key the first just returned. So without `rotate` the insert
 * does nothing on conflict (it waits for the other transaction's commit) and the winner's key is
 * read back.
 *
 * @example
 * const { key } = await ensureWebhookKey({ tx, tenantId, masterKey, actor: auth.sub, rotate: false });
 * // '/webhooks/whatsapp/green-api/' + key
 */
export async function ensureWebhookKey(options: EnsureWebhookKeyOptions): Promise<WebhookKey> {
  const { tx, tenantId, masterKey, actor, rotate } = options;
  // After the commit: a webhook racing the rotation could otherwise cache the old key again.
  if (rotate) knownKeys.forgetAfterCommit(tx, (entry) => entry.tenantId === tenantId);
  if (!rotate) {
    const existing = await readWebhookKey({ tx, tenantId, masterKey });
    if (existing) return { ...existing, created: false };
  }
  const key = randomBytes(32).toString('base64url');
  const values = { keySha256: webhookKeySha256(key), sealedKey: sealSecret(masterKey, key, aad(tenantId)), createdBy: actor, createdAt: new Date() };
  // tenant_id defaults to the transaction's tenant (RLS checks it): one row per tenant.
  const insert = tx.insert(whatsappWebhookKeys).values(values);
  const [row] = await (rotate ? insert.onConflictDoUpdate({ target: whatsappWebhookKeys.tenantId, set: values }) : insert.onConflictDoNothing()).returning({
    createdAt: whatsappWebhookKeys.createdAt,
  });
  if (row) return { key, createdAt: row.createdAt, created: true };
  const winner = await readWebhookKey({ tx, tenantId, masterKey });
  if (!winner) throw new Error('the webhook key row vanished after a conflicting insert');
  return { ...winner, created: false };
}

/**
 * The tenant's current webhook key, or undefined when none was created yet.
 *
 * @example
 * const current = await readWebhookKey({ tx, tenantId, masterKey });
 */
export async function readWebhookKey(options: { tx: TenantTx; tenantId: string; masterKey: Buffer }): Promise<{ key: string; createdAt: Date } | undefined> {
  const [row] = await options.tx
    .select({ sealedKey: whatsappWebhookKeys.sealedKey, createdAt: whatsappWebhookKeys.createdAt })
    .from(whatsappWebhookKeys)
    .where(eq(whatsappWebhookKeys.tenantId, options.tenantId));
  if (!row) return undefined;
  return { key: openSecret(options.masterKey, row.sealedKey, aad(options.tenantId)).toString('utf8'), createdAt: row.createdAt };
}

/**
 * Which tenant owns this webhook key, read OUTSIDE any tenant scope (the SECURITY DEFINER
 * function `whatsapp_webhook_tenant`): the one cross-tenant question a webhook may ask.
 * A key of the wrong shape is refused without a query.
 *
 * @example
 * const tenantId = await unsafeTenantForWebhookKey(appPool, key); // undefined → 404
 */
export async function unsafeTenantForWebhookKey(pool: pg.Pool, key: string): Promise<string | undefined> {
  if (!WEBHOOK_KEY_PATTERN.test(key)) return undefined;
  const sha = webhookKeySha256(key);
  // Only keys that exist are remembered: random keys from a scanner must not fill the cache.
  const known = await knownKeys.get(sha, async () => {
    const result = await pool.query<{ tenant_id: string | null }>('SELECT whatsapp_webhook_tenant($1) AS tenant_id', [sha]);
    const tenantId = result.rows[0]?.tenant_id;
    return tenantId ? { tenantId } : undefined;
  });
  return known?.tenantId;
}

/**
 * Providers post in bursts, so a key's tenant is remembered for a few seconds, sparing a round
 * trip per webhook. A rotation in this process forgets the tenant's old key once it commits;
 * other processes stop accepting it within the TTL.
 */
const knownKeys = new TenantCache<{ tenantId: string }>({ max: 10_000, ttlMs: 5_000 });
