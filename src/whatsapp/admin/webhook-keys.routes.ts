import { createRoute, z } from '@hono/zod-openapi';
import { requirePermission } from '../../auth/auth.middleware.ts';
import { AppError } from '../../http/app-error.ts';
import { BEARER, COMMON_ERROR_RESPONSES, createRouter, IDEMPOTENCY_HEADER, jsonResponse } from '../../http/router.ts';
import { REAL_PROVIDER_NAMES, type RealProviderName } from '../outbound/provider.ts';
import { ensureWebhookKey, readWebhookKey } from '../inbound/webhook-keys.store.ts';

/** Where the public webhook routes are mounted (src/app/app.ts). */
export const WEBHOOKS_BASE_PATH = '/webhooks/whatsapp';

const ZWebhookUrls = z
  .object({
    key_created_at: z.string().openapi({ format: 'date-time' }),
    urls: z.record(z.enum(REAL_PROVIDER_NAMES), z.string()).openapi({
      description: "Paths relative to this server's public origin, one per provider; the last segment is the secret key",
      example: { 'green-api': '/webhooks/whatsapp/green-api/<key>' },
    }),
  })
  .openapi('WhatsAppWebhookUrls');

const ZWebhookKeyRequest = z
  .strictObject({ rotate: z.boolean().optional().openapi({ description: 'Replace the key: the old URLs answer 404 at once' }) })
  .openapi('WhatsAppWebhookKeyRequest');

/**
 * The webhook URL of every provider for this key.
 *
 * @example
 * webhookUrls('k')['meta-cloud'] // '/webhooks/whatsapp/meta-cloud/k'
 */
export function webhookUrls(key: string): Record<RealProviderName, string> {
  return Object.fromEntries(REAL_PROVIDER_NAMES.map((name) => [name, `${WEBHOOKS_BASE_PATH}/${name}/${key}`])) as Record<RealProviderName, string>;
}

/** Admin routes for the tenant's webhook key: create, rotate, read the URLs back. */
export function webhookKeysRoutes(deps: { masterKey: Buffer }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: '/whatsapp/webhook-key',
      tags: ['WhatsApp'],
      summary: "Create the tenant's webhook key (or rotate it) and get the webhook URLs",
      description: 'Without `rotate`, an existing key is kept and its URLs returned. Paste each URL into the provider console.',
      security: BEARER,
      middleware: [requirePermission('whatsapp:manage')] as const,
      request: {
        headers: IDEMPOTENCY_HEADER,
        // Optional: an empty POST creates the key.
        body: { required: false, content: { 'application/json': { schema: ZWebhookKeyRequest } } },
      },
      responses: { 200: jsonResponse(ZWebhookUrls, 'The webhook URLs'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const body = c.req.valid('json') as z.infer<typeof ZWebhookKeyRequest> | undefined;
      const result = await ensureWebhookKey({
        tx: c.var.tx,
        tenantId: c.var.auth.tenantId,
        masterKey: deps.masterKey,
        actor: c.var.auth.sub,
        rotate: body?.rotate === true,
      });
      return c.json({ key_created_at: result.createdAt.toISOString(), urls: webhookUrls(result.key) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/whatsapp/webhooks',
      tags: ['WhatsApp'],
      summary: 'The webhook URLs of every provider (404 until a key is created)',
      security: BEARER,
      middleware: [requirePermission('whatsapp:manage')] as const,
      responses: { 200: jsonResponse(ZWebhookUrls, 'The webhook URLs'), ...COMMON_ERROR_RESPONSES },
    }),
    async (c) => {
      const current = await readWebhookKey({ tx: c.var.tx, tenantId: c.var.auth.tenantId, masterKey: deps.masterKey });
      if (!current) throw new AppError('not_found', 'No webhook key yet: POST /api/v1/whatsapp/webhook-key creates one');
      return c.json({ key_created_at: current.createdAt.toISOString(), urls: webhookUrls(current.key) }, 200);
    },
  );

  return router;
}
