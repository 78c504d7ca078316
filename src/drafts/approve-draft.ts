import { eq, sql } from 'drizzle-orm';
import { approveRequest } from '../approvals/approve-request.ts';
import { withdrawRequest } from '../approvals/withdraw-request.ts';
import { drafts } from '../db/schema.ts';
import type { DealScope } from '../deals/deals.store.ts';
import { executeAction, type ExecuteDeps, type ExecuteOutcome } from '../gateway/execute-action.ts';
import { AppError } from '../http/app-error.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { contactHasOptedOut } from '../whatsapp/outbound/outbound.store.ts';
import type { TApproveDraftResponse } from './drafts.schemas.ts';
import { insertDraftActivity, lockDraft, requirePending, toDraft, type DraftRow } from './drafts.store.ts';

function refused(outcome: ExecuteOutcome): AppError {
  return new AppError('conflict', `The gateway answered ${outcome.result}: ${outcome.reason}`, {
    extra: { decision_id: outcome.decisionId, gateway_result: outcome.result },
  });
}

export interface ApproveDraftOptions {
  tx: TenantTx;
  tenantId: string;
  draftId: string;
  approver: string;
  scope: DealScope;
  correlationId: string;
  deps: ExecuteDeps & { tokenTtlHours: number };
}

/**
 * Approves a pending draft and sends its CURRENT text through the gateway, in the caller's
 * transaction: the first call (actor `draft:<id>`, never a human) opens a class B approval
 * request bound to the payload hash; the approver approves it (so requester ≠ approver
 * always holds); the second call offers the token and starts the send flow. The draft row
 * is locked throughout, so approving twice sends once (the second answers 409). The last
 * editor of the text may not approve it (403 four_eyes_required).
 */
export async function approveDraft(options: ApproveDraftOptions): Promise<TApproveDraftResponse> {
  const { tx, tenantId, deps } = options;
  const row = await lockDraft(tx, options.draftId, options.scope);
  requirePending(row);
  // Four eyes: whoever wrote the text last is not the one who lets it go out.
  if (row.lastEditedBy !== null && row.lastEditedBy === options.approver) {
    throw new AppError('four_eyes_required', `You edited draft ${row.id} last; another approver must approve its text`, {
      extra: { last_edited_by: row.lastEditedBy },
    });
  }
  if (await contactHasOptedOut(tx, row.contactId)) {
    throw new AppError('conflict', `Contact ${row.contactId} has opted out; nothing may be sent to them`);
  }
  const content = row.text !== null ? { text: row.text } : row.templateId !== null ? { template_id: row.templateId } : undefined;
  if (!content) throw new AppError('conflict', `Draft ${row.id} has neither text nor template; edit it first`);
  const payload: Record<string, unknown> = { contact_id: row.contactId, ...(row.dealId ? { deal_id: row.dealId } : {}), ...content, language: row.language };
  const idempotencyKey = `draft:${row.id}:v${row.version}`;

  let outcome = await executeAction({
    tx,
    tenantId,
    request: { actor: `draft:${row.id}`, action: 'send_whatsapp', payload, correlationId: options.correlationId, idempotencyKey, dealScope: options.scope },
    deps,
  });
  let approvalRequestId: string | null = null;
  if (outcome.result === 'requires_approval' && outcome.approvalRequestId) {
    approvalRequestId = outcome.approvalRequestId;
    const approved = await approveRequest({ tx, tenantId, requestId: approvalRequestId, approver: options.approver, masterKey: deps.masterKey, ttlHours: deps.tokenTtlHours });
    outcome = await executeAction({
      tx,
      tenantId,
      request: { actor: options.approver, action: 'send_whatsapp', payload, correlationId: options.correlationId, idempotencyKey, approvalToken: approved.token, dealScope: options.scope },
      deps,
    });
  }
  if (outcome.result !== 'accepted' || !outcome.flowRunId) throw refused(outcome);

  const [updated] = await tx
    .update(drafts)
    .set({ status: 'approved', decidedBy: options.approver, decidedAt: sql`now()`, decisionId: outcome.decisionId, flowRunId: outcome.flowRunId })
    .where(eq(drafts.id, row.id))
    .returning();
  const draft = updated as DraftRow;
  // The request the gateway opened for the original reply: this approval handled it.
  if (row.approvalRequestId) {
    await withdrawRequest({ tx, requestId: row.approvalRequestId, by: options.approver, reason: `handled by draft ${row.id}, approved and sent` });
  }
  await insertDraftActivity(
    tx,
    draft,
    'draft_approved',
    options.approver,
    { version: draft.version, approval_request_id: approvalRequestId, decision_id: outcome.decisionId, flow_run_id: outcome.flowRunId },
    options.correlationId,
  );
  return { draft: toDraft(draft), approval_request_id: approvalRequestId, decision_id: outcome.decisionId, flow_run_id: outcome.flowRunId };
}
