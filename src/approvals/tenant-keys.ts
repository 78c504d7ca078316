import { and, desc, eq, isNull } from 'drizzle-orm';
import type { JWK } from 'jose';
import { openSecret, sealSecret } from '../crypto/envelope.ts';
import { tenantSigningKeys } from '../db/schema.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { generateSigningKey, type SigningKey } from './approval-token.ts';

const aad = (tenantId: string, kid: string) => `tenant:${tenantId}:kid:${kid}`;

/**
 * The tenant's active Ed25519 signing key, made on first use. The private half is stored
 * sealed under the master key with the tenant and key id as associated data, so a sealed
 * key copied to another tenant's row does not open.
 */
export async function activeSigningKey(options: { tx: TenantTx; tenantId: string; masterKey: Buffer }): Promise<SigningKey> {
  const { tx, tenantId, masterKey } = options;
  const [row] = await tx
    .select()
    .from(tenantSigningKeys)
    .where(isNull(tenantSigningKeys.retiredAt))
    .orderBy(desc(tenantSigningKeys.createdAt))
    .limit(1);
  if (row) {
    const privateJwk = JSON.parse(openSecret(masterKey, row.privateKeySealed, aad(tenantId, row.kid)).toString('utf8')) as JWK;
    return { kid: row.kid, publicJwk: row.publicJwk as JWK, privateJwk };
  }
  const key = await generateSigningKey();
  // Two first uses racing: the loser's insert is a no-op and it reads the winner's key.
  const inserted = await tx
    .insert(tenantSigningKeys)
    .values({ kid: key.kid, publicJwk: key.publicJwk, privateKeySealed: sealSecret(masterKey, JSON.stringify(key.privateJwk), aad(tenantId, key.kid)) })
    .onConflictDoNothing()
    .returning({ kid: tenantSigningKeys.kid });
  if (inserted.length === 0) return activeSigningKey(options);
  return key;
}

/** A public key of this tenant by id (RLS: another tenant's key id finds nothing). */
export async function findPublicKey(tx: TenantTx, kid: string): Promise<JWK | undefined> {
  const [row] = await tx.select({ publicJwk: tenantSigningKeys.publicJwk }).from(tenantSigningKeys).where(and(eq(tenantSigningKeys.kid, kid)));
  return row?.publicJwk as JWK | undefined;
}
