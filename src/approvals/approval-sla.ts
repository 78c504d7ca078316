import { DEFAULT_POLICY_VERSION, POLICY_SETS } from '../policy/policy-sets.ts';
import type { ApprovalRequestRow } from './approvals.store.ts';

/**
 * SLA state of a request: while pending, `pending` until the warning fraction of its
 * window has passed, then `warning`, then `breach` after the due time. Once decided, `met`
 * or `breach` by when it was decided.
 */
export type SlaState = 'pending' | 'warning' | 'breach' | 'met';

export function slaState(row: Pick<ApprovalRequestRow, 'status' | 'createdAt' | 'slaDueAt' | 'decidedAt'>, now: Date): SlaState {
  const due = row.slaDueAt.getTime();
  if (row.status !== 'pending') return row.decidedAt && row.decidedAt.getTime() > due ? 'breach' : 'met';
  if (now.getTime() > due) return 'breach';
  const warnAt = row.createdAt.getTime() + (due - row.createdAt.getTime()) * (POLICY_SETS[DEFAULT_POLICY_VERSION]?.approvalSla.warnAtFraction ?? 0.75);
  return now.getTime() >= warnAt ? 'warning' : 'pending';
}
