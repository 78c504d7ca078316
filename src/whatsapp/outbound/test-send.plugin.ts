import { z } from 'zod';
import { selectContacts } from '../../contacts/contacts.store.ts';
import { toE164 } from '../../contacts/phone.ts';
import { defineFlow } from '../../flows/flow-definition.ts';
import { actionFlowInput } from '../../gateway/action-flow-input.ts';
import type { ActionPlugin } from '../../gateway/task-router.ts';
import { contactHasOptedOut } from './outbound.store.ts';
import { sandboxExternalId, SANDBOX_PROVIDER } from './sandbox-provider.ts';
import { attemptRecorder, lastInboundAt } from './send-whatsapp.plugin.ts';
import type { SendAttempt } from './send-smart.ts';
import type { WhatsAppService } from './whatsapp-service.ts';

export const TEST_SEND_ACTION = 'whatsapp_test_send';

export const ZTestSend = z.strictObject({
  to: z
    .string()
    .trim()
    .transform((value, ctx) => {
      const e164 = toE164(value);
      if (!e164) ctx.addIssue({ code: 'custom', message: 'must be a valid phone number (05XXXXXXXX or +9665XXXXXXXX)' });
      return e164 ?? value;
    }),
  text: z.string().trim().min(1).max(4096),
});

/**
 * POST /os/test-send's action (class B, like every outbound message: an approval token or a
 * standing approval first). Sends one message through the tenant's fallback chain and
 * returns every attempt, so an admin sees which provider took it and why the others did not.
 * A number that opted out is refused here too: a test is still a message to a person.
 *
 * @example
 * router.register(createTestSendPlugin({ whatsapp }));
 */
export function createTestSendPlugin(deps: { whatsapp: WhatsAppService }): ActionPlugin {
  return {
    action: TEST_SEND_ACTION,
    description: 'Sends a test WhatsApp message through the provider chain and reports each attempt.',
    payload: ZTestSend,
    flows: [
      defineFlow({
        name: `action:${TEST_SEND_ACTION}`,
        version: '1',
        input: actionFlowInput(ZTestSend),
        steps: [
          {
            name: 'send',
            // The chain already falls through providers; a second try could reach the phone twice.
            retry: { maxAttempts: 1 },
            run: async (ctx) => {
              const { to, text } = ctx.input.payload;
              const { configured, optedOut, lastWrote } = await ctx.db(async (tx) => {
                const [contact] = await selectContacts(tx, { phoneE164: to, limit: 1 });
                return {
                  configured: await deps.whatsapp.providersFor(tx, ctx.tenantId),
                  optedOut: contact ? await contactHasOptedOut(tx, contact.id) : false,
                  lastWrote: contact ? await lastInboundAt(tx, contact.id) : null,
                };
              });
              if (optedOut) {
                return { output: { result: { kind: 'permanent', code: 'opted_out', reason: `${to} opted out: nothing is sent to them (PDPL)` }, attempts: [] } };
              }
              const chain = deps.whatsapp.chainFor(configured);
              if (!chain) {
                // No provider configured: the sandbox takes it, offline, so the chain can be tried end to end.
                const externalId = sandboxExternalId(`${ctx.runId}:test-send`);
                const attempt: SendAttempt = { provider: SANDBOX_PROVIDER, startedAt: new Date(), latencyMs: 0, outcome: 'accepted', externalId };
                return { output: { result: { kind: 'accepted', provider: SANDBOX_PROVIDER, externalId }, attempts: [attempt] } };
              }
              const sent = await ctx.sideEffect('provider', (idempotencyKey) =>
                chain.send({ message: { to, text, idempotencyKey, outboundId: ctx.runId }, lastInboundAt: lastWrote, onAttempt: attemptRecorder(ctx, null) }),
              );
              return { output: sent };
            },
            noCompensation: { reason: 'a sent WhatsApp message cannot be unsent', escalate: false },
          },
        ],
      }),
    ],
  };
}
