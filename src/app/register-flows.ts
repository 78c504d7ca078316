import type { TaskRouter } from '../gateway/task-router.ts';
import { createInboundWhatsAppFlow } from '../os/inbound-whatsapp.flow.ts';
import { createTimedReplyFlow, type TimedReplyDeps } from '../os/timed-reply.flow.ts';

/**
 * Registers the lifecycle's own flows: they are not gateway actions, they call the gateway
 * themselves (timed replies when they fire, inbound WhatsApp messages through processAndAct).
 *
 * @example
 * registerOsFlows(router, { masterKey });
 */
export function registerOsFlows(router: TaskRouter, deps: Omit<TimedReplyDeps, 'router'>): void {
  router.registry.register(createTimedReplyFlow({ ...deps, router }));
  router.registry.register(createInboundWhatsAppFlow({ ...deps, router }));
}
