import { eq } from 'drizzle-orm';
import { approvalRequests } from '../db/schema.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { mintApprovalToken } from './approval-token.ts';
import { lockPendingRequest, signalDecisionWaiters, type ApprovalRequestRow } from './approvals.store.ts';
import { activeSigningKey } from './signing-keys.store.ts';

export interface ApproveRequestOptions {
  tx: TenantTx;
  tenantId: string;
  requestId: string;
  approver: string;
  masterKey: Buffer;
  ttlHours: number;
  now?: Date;
}

/**
 * Approves a pending request and issues its token: Ed25519-signed, bound to tenant, action,
 * the SHA-256 of the canonical payload and the approver, expiring after `ttlHours`.
 */
export async function approveRequest(options: ApproveRequestOptions): Promise<{ request: ApprovalRequestRow; token: string; tokenId: string; expiresAt: Date }> {
  const now = options.now ?? new Date();
  const request = await lockPendingRequest(options.tx, options.requestId, options.approver);
  const key = await activeSigningKey({ tx: options.tx, tenantId: options.tenantId, masterKey: options.masterKey });
  const expiresAt = new Date(now.getTime() + options.ttlHours * 3_600_000);
  const minted = await mintApprovalToken({
    privateJwk: key.privateJwk,
    kid: key.kid,
    tenantId: options.tenantId,
    action: request.action,
    payloadSha256: request.payloadSha256,
    approver: options.approver,
    approvalRequestId: request.id,
    expiresAt,
    now,
  });
  const [updated] = await options.tx
    .update(approvalRequests)
    .set({ status: 'approved', decidedBy: options.approver, decidedAt: now })
    .where(eq(approvalRequests.id, request.id))
    .returning();
  if (!updated) throw new Error('UPDATE … RETURNING gave no row for a locked request');
  await signalDecisionWaiters(options.tx, request.id, { decision: 'approved', approver: options.approver, token_id: minted.tokenId, expires_at: expiresAt.toISOString() });
  return { request: updated, token: minted.token, tokenId: minted.tokenId, expiresAt };
}
