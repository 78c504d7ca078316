import { eq, sql } from 'drizzle-orm';
import { drafts } from '../db/schema.ts';
import type { DealScope } from '../deals/deals.store.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import type { TDraft, TEditDraftRequest } from './drafts.schemas.ts';
import { insertDraftActivity, lockDraft, requirePending, toDraft, type DraftRow } from './drafts.store.ts';

export interface EditDraftOptions {
  tx: TenantTx;
  draftId: string;
  input: TEditDraftRequest;
  actor: string;
  scope: DealScope;
  correlationId: string | undefined;
}

/**
 * Edits a pending draft's text and bumps its version. The draft holds no approval token:
 * approval requests bind the SHA-256 of the payload, so one opened for the old text can
 * never authorise the new text, and approving always sends the text current at that moment.
 */
export async function editDraft(options: EditDraftOptions): Promise<TDraft> {
  const { tx } = options;
  const row = await lockDraft(tx, options.draftId, options.scope);
  requirePending(row);
  const [updated] = await tx
    .update(drafts)
    .set({ text: options.input.text, version: sql`${drafts.version} + 1`, lastEditedBy: options.actor })
    .where(eq(drafts.id, row.id))
    .returning();
  const draft = updated as DraftRow;
  await insertDraftActivity(tx, draft, 'draft_edited', options.actor, { version: draft.version, previous_version: row.version }, options.correlationId);
  return toDraft(draft);
}
