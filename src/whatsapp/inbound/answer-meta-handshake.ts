import type pg from 'pg';
import { AppError } from '../../http/app-error.ts';
import { withTenant } from '../../tenancy/with-tenant.ts';
import type { WhatsAppService } from '../outbound/whatsapp-service.ts';
import { verifyMetaHandshake } from './verify-webhook.ts';
import { unsafeTenantForWebhookKey } from './webhook-keys.store.ts';
import { providerSettings } from './webhook-provider-settings.ts';

export interface AnswerMetaHandshakeOptions {
  pool: pg.Pool;
  whatsapp: WhatsAppService;
  key: string;
  query: { mode: string | undefined; verifyToken: string | undefined; challenge: string | undefined };
}

/**
 * Meta's subscription handshake for the tenant of this key: the challenge to echo, or AppError
 * `not_found` (unknown key) / `forbidden` (wrong mode or verify token, or none configured).
 *
 * @example
 * const challenge = await answerMetaHandshake({ pool, whatsapp, key, query: { mode: 'subscribe', verifyToken, challenge: '1158201444' } });
 */
export async function answerMetaHandshake(options: AnswerMetaHandshakeOptions): Promise<string> {
  const tenantId = await unsafeTenantForWebhookKey(options.pool, options.key);
  if (!tenantId) throw new AppError('not_found', 'No such webhook');
  const settings = await withTenant({ pool: options.pool, tenantId, readOnly: true }, (tx) => providerSettings(tx, options.whatsapp, tenantId, 'meta-cloud'));
  const answer = verifyMetaHandshake({ ...options.query, expectedToken: settings.verify_token ?? '' });
  if (!answer.ok) throw new AppError('forbidden', 'The verification request does not match the configured verify token');
  return answer.challenge;
}
