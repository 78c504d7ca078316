import { createHash } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { outboundMessages } from '../../db/schema.ts';
import type { TenantTx } from '../../tenancy/with-tenant.ts';
import type { OutboundWhatsApp, SendResult, WhatsAppProvider } from './provider.ts';

export const SANDBOX_PROVIDER = 'sandbox' as const;

/** The sandbox's message id: a function of the idempotency key, so a repeated send gets the same id. */
export function sandboxExternalId(idempotencyKey: string): string {
  return `sandbox:${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}`;
}

/**
 * The provider used when none is configured (SPEC §4): it "sends" by recording the message
 * as sent on its outbound row, offline. Same idempotency key → same external id and no second
 * send: a row already sent under that id is reported accepted again without being touched.
 *
 * @example
 * const provider = createSandboxProvider((work) => ctx.db(work));
 */
export function createSandboxProvider(db: <T>(work: (tx: TenantTx) => Promise<T>) => Promise<T>): WhatsAppProvider & { sends: number } {
  const provider = {
    name: SANDBOX_PROVIDER,
    /** Messages actually recorded as sent by this instance (tests read it). */
    sends: 0,
    async send(message: OutboundWhatsApp): Promise<SendResult> {
      const externalId = sandboxExternalId(message.idempotencyKey);
      return db(async (tx) => {
        const [sent] = await tx
          .update(outboundMessages)
          .set({ status: 'sent', provider: SANDBOX_PROVIDER, externalId, sentAt: new Date() })
          .where(and(eq(outboundMessages.id, message.outboundId), inArray(outboundMessages.status, ['queued', 'sending'])))
          .returning({ id: outboundMessages.id });
        if (sent) {
          provider.sends += 1;
          return { kind: 'accepted', externalId } as const;
        }
        const [row] = await tx
          .select({ status: outboundMessages.status, externalId: outboundMessages.externalId })
          .from(outboundMessages)
          .where(and(eq(outboundMessages.id, message.outboundId), inArray(outboundMessages.status, ['sent', 'cancelled', 'failed'])));
        if (row?.status === 'sent' && row.externalId === externalId) return { kind: 'accepted', externalId } as const;
        return { kind: 'permanent', reason: row ? `outbound message is ${row.status}` : 'outbound message does not exist' } as const;
      });
    },
  };
  return provider;
}
