import { z } from 'zod';
import { CORRELATION_ID_KEY } from '../approvals/approval-token.ts';
import { ZRunDealScope, type TRunDealScope } from '../deals/deal-scope.ts';

/** What the gateway hands an action's flow: the call, the checked payload, and who made it. */
export interface ActionFlowInput<Payload> {
  action: string;
  actor: string;
  /** The payload as the plugin's schema parsed it, with the call's correlation id beside it. */
  payload: Payload & { [CORRELATION_ID_KEY]?: string };
  decision_id?: string;
  /** The scope of the caller who started the run; absent for internal callers (and older runs). */
  deal_scope?: TRunDealScope;
}

/**
 * The input schema of an action's flow, built from the plugin's payload schema: a run reads its
 * payload through the same schema the gateway checked it with, so a stored payload that no
 * longer fits (an older plugin version's, or edited by hand) fails the run before a step acts.
 *
 * @example
 * defineFlow({ name: 'action:tag', version: '1', input: actionFlowInput(ZTag), steps })
 */
export function actionFlowInput<Payload extends Record<string, unknown>>(payload: z.ZodType<Payload>): z.ZodType<ActionFlowInput<Payload>> {
  const ZPayload = z.record(z.string(), z.unknown()).transform((raw, ctx) => {
    const { [CORRELATION_ID_KEY]: correlationId, ...rest } = raw;
    const parsed = payload.safeParse(rest);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
      return z.NEVER;
    }
    if (correlationId !== undefined && typeof correlationId !== 'string') {
      ctx.addIssue({ code: 'custom', message: 'must be a string', path: [CORRELATION_ID_KEY] });
      return z.NEVER;
    }
    return correlationId === undefined ? parsed.data : { ...parsed.data, [CORRELATION_ID_KEY]: correlationId };
  });
  return z.object({
    action: z.string().min(1),
    actor: z.string().min(1),
    payload: ZPayload,
    decision_id: z.uuid().optional(),
    deal_scope: ZRunDealScope.optional(),
  });
}
