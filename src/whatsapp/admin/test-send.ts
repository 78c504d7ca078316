import { executeAction, type ExecuteDeps, type ExecuteOutcome } from '../../gateway/execute-action.ts';
import type { TenantTx } from '../../tenancy/with-tenant.ts';
import { TEST_SEND_ACTION } from '../outbound/test-send.plugin.ts';

export interface TestSendOptions {
  tx: TenantTx;
  tenantId: string;
  actor: string;
  input: { to: string; text: string; approval_token?: string | undefined };
  correlationId: string;
  idempotencyKey?: string | undefined;
  deps: ExecuteDeps;
}

/**
 * POST /os/test-send: the gateway decides in the request's transaction, like any action, and
 * the run starts when it commits. The request does not wait for the send: waiting held its
 * connection (and took more to poll) for up to the whole provider chain, so a few concurrent
 * test sends starved the pool. The caller polls the run (GET /flows/{id}), whose output lists
 * the attempts.
 *
 * @example
 * const outcome = await testSend({ tx, tenantId, actor, input: { to: '0551234567', text: 'test' }, correlationId, deps });
 */
export async function testSend(options: TestSendOptions): Promise<ExecuteOutcome> {
  const { input } = options;
  return executeAction({
    tx: options.tx,
    tenantId: options.tenantId,
    request: {
      actor: options.actor,
      action: TEST_SEND_ACTION,
      payload: { to: input.to, text: input.text },
      correlationId: options.correlationId,
      idempotencyKey: options.idempotencyKey,
      approvalToken: input.approval_token,
    },
    deps: options.deps,
  });
}
