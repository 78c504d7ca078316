import { eq, sql } from 'drizzle-orm';
import { withdrawRequest } from '../approvals/withdraw-request.ts';
import { drafts } from '../db/schema.ts';
import type { DealScope } from '../deals/deals.store.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TDraft, TRejectDraftRequest } from './drafts.schemas.ts';
import { insertDraftActivity, lockDraft, requirePending, toDraft, type DraftRow } from './drafts.store.ts';

export interface RejectDraftOptions {
  tx: TenantTx;
  draftId: string;
  input: TRejectDraftRequest;
  actor: string;
  scope: DealScope;
  correlationId: string | undefined;
}

/** Discards a pending draft, with the reason, on the deal's timeline. Nothing is sent. */
export async function rejectDraft(options: RejectDraftOptions): Promise<TDraft> {
  const { tx } = options;
  const row = await lockDraft(tx, options.draftId, options.scope);
  requirePending(row);
  const [updated] = await tx
    .update(drafts)
    .set({ status: 'discarded', decidedBy: options.actor, decidedAt: sql`now()`, decisionReason: options.input.reason })
    .where(eq(drafts.id, row.id))
    .returning();
  const draft = updated as DraftRow;
  if (row.approvalRequestId) {
    await withdrawRequest({ tx, requestId: row.approvalRequestId, by: options.actor, reason: `draft ${row.id} rejected: ${options.input.reason}` });
  }
  await insertDraftActivity(tx, draft, 'draft_rejected', options.actor, { version: draft.version, reason: options.input.reason }, options.correlationId);
  return toDraft(draft);
}
