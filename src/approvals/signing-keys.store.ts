import { and, eq, isNull, sql } from 'drizzle-orm';
import type { JWK } from 'jose';
import { openSecret, sealSecret } from '../crypto/envelope.ts';
import { tenantSigningKeys } from '../db/schema.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { generateSigningKey, type SigningKey } from './approval-token.ts';
import { readJsonColumn } from '../db/json-column.ts';
import { z } from 'zod';

/** An Ed25519 key as jose exports it (RFC 8037); the private one adds `d`. */
const ZPublicJwk = z.looseObject({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string().min(1) });
const ZPrivateJwk = ZPublicJwk.extend({ d: z.string().min(1) });

const aad = (tenantId: string, kid: string) => `tenant:${tenantId}:kid:${kid}`;

/**
 * The tenant's active Ed25519 signing key, made on first use. The private half is stored
 * sealed under the master key with the tenant and key id as associated data, so a sealed
 * key copied to another tenant's row does not open.
 *
 * A tenant has at most one active key (the partial unique index
 * tenant_signing_keys__active_key). Two first uses racing both find none and both insert: the
 * second insert waits for the first transaction, and once it commits finds the conflict,
 * inserts nothing, and reads the winner's key (READ COMMITTED: the new statement sees it). If
 * the first rolls back instead, the second's insert goes ahead. Either way every token the
 * tenant signs verifies under the one active key.
 */
export async function activeSigningKey(options: { tx: TenantTx; tenantId: string; masterKey: Buffer }): Promise<SigningKey> {
  const { tx, tenantId, masterKey } = options;
  const existing = await readActiveKey(options);
  if (existing) return existing;
  const key = await generateSigningKey();
  const inserted = await tx
    .insert(tenantSigningKeys)
    .values({ kid: key.kid, publicJwk: key.publicJwk, privateKeySealed: sealSecret(masterKey, JSON.stringify(key.privateJwk), aad(tenantId, key.kid)) })
    .onConflictDoNothing({ target: tenantSigningKeys.tenantId, where: sql`retired_at IS NULL` })
    .returning({ kid: tenantSigningKeys.kid });
  if (inserted.length > 0) return key;
  const winner = await readActiveKey(options);
  if (!winner) throw new Error('the active signing key that won the insert is not visible');
  return winner;
}

async function readActiveKey(options: { tx: TenantTx; tenantId: string; masterKey: Buffer }): Promise<SigningKey | undefined> {
  const [row] = await options.tx.select().from(tenantSigningKeys).where(isNull(tenantSigningKeys.retiredAt)).limit(1);
  if (!row) return undefined;
  const privateJwk = readJsonColumn(ZPrivateJwk, JSON.parse(openSecret(options.masterKey, row.privateKeySealed, aad(options.tenantId, row.kid)).toString('utf8')), 'tenant_signing_keys.private_key_sealed');
  return { kid: row.kid, publicJwk: readJsonColumn(ZPublicJwk, row.publicJwk, 'tenant_signing_keys.public_jwk'), privateJwk };
}

/** A public key of this tenant by id (RLS: another tenant's key id finds nothing). */
export async function findPublicKey(tx: TenantTx, kid: string): Promise<JWK | undefined> {
  const [row] = await tx.select({ publicJwk: tenantSigningKeys.publicJwk }).from(tenantSigningKeys).where(and(eq(tenantSigningKeys.kid, kid)));
  return row ? readJsonColumn(ZPublicJwk, row.publicJwk, 'tenant_signing_keys.public_jwk') : undefined;
}
