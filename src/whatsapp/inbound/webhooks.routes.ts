import { createRoute, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type pg from 'pg';
import type { FlowRegistry } from '../../flows/flow-definition.ts';
import { AppError } from '../../http/app-error.ts';
import { createRouter, jsonResponse, ZProblem } from '../../http/router.ts';
import { REAL_PROVIDER_NAMES } from '../outbound/provider.ts';
import { answerMetaHandshake } from './answer-meta-handshake.ts';
import { receiveWebhook, webhookProvider } from './receive-webhook.ts';
import type { WhatsAppService } from '../outbound/whatsapp-service.ts';
import { FONNTE_SECRET_HEADER } from './verify-webhook.ts';

export interface WebhooksRoutesDeps {
  appPool: pg.Pool;
  whatsapp: WhatsAppService;
  registry: FlowRegistry;
  bodyLimitBytes: number;
  lockTimeoutMs?: number;
}

const ZWebhookParams = z.object({
  provider: z.string().openapi({ param: { name: 'provider', in: 'path' }, enum: [...REAL_PROVIDER_NAMES] }),
  key: z.string().openapi({ param: { name: 'key', in: 'path' }, description: 'The secret key from POST /api/v1/whatsapp/webhook-key' }),
});

const ZHandshakeQuery = z.object({
  'hub.mode': z.string().optional().openapi({ param: { name: 'hub.mode', in: 'query' }, example: 'subscribe' }),
  'hub.verify_token': z.string().optional().openapi({ param: { name: 'hub.verify_token', in: 'query' } }),
  'hub.challenge': z.string().optional().openapi({ param: { name: 'hub.challenge', in: 'query' }, example: '1158201444' }),
});

const ZWebhookReceived = z
  .object({
    received: z.number().int(),
    messages: z.number().int().openapi({ description: 'New inbound messages; each is processed after this answer' }),
    duplicates: z.number().int().openapi({ description: 'Messages already received (a redelivery): not processed again' }),
    statuses: z.number().int(),
    ignored: z.number().int().openapi({ description: 'Echoes of our own sends, non-text messages, groups, device updates' }),
  })
  .openapi('WhatsAppWebhookReceived');

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ZProblem } } });

/**
 * The providers' public webhook endpoints, mounted at `/webhooks/whatsapp` outside `/api/v1`:
 * no JWT (the secret key in the path names the tenant; signatures or tokens prove the sender).
 * The app's body limit is applied here, since the app applies it to `/api/*` only.
 * Handlers never log headers or the path: both carry secrets.
 */
export function whatsappWebhooksRoutes(deps: WebhooksRoutesDeps) {
  const router = createRouter();
  router.use(
    '*',
    bodyLimit({
      maxSize: deps.bodyLimitBytes,
      onError: () => {
        throw new AppError('payload_too_large', `The request body exceeds ${deps.bodyLimitBytes} bytes`);
      },
    }),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/{provider}/{key}',
      tags: ['WhatsApp webhooks'],
      summary: 'Receive a provider webhook (messages, delivery statuses)',
      description:
        'Meta: `X-Hub-Signature-256` over the exact body with the app secret (required). Green API: `Authorization` with the webhook token, when one is ' +
        `configured. Fonnte: the \`${FONNTE_SECRET_HEADER}\` header or \`secret\` field, when a webhook secret is configured. Messages are stored and ` +
        'processed after the answer; a redelivered message is recognised and not processed again.',
      request: { params: ZWebhookParams },
      responses: {
        200: jsonResponse(ZWebhookReceived, 'Stored'),
        400: problem('Not the provider’s documented shape; `errors` names the fields'),
        401: problem('Signature, token or secret missing or wrong'),
        404: problem('Unknown provider or key'),
        413: problem('Body too large'),
      },
    }),
    async (c) => {
      const params = c.req.valid('param');
      const provider = webhookProvider(params.provider);
      if (!provider) throw new AppError('not_found', 'No such webhook');
      const result = await receiveWebhook({
        pool: deps.appPool,
        whatsapp: deps.whatsapp,
        registry: deps.registry,
        provider,
        key: params.key,
        // Read once, as bytes: Meta's signature is over exactly these.
        request: {
          rawBody: new Uint8Array(await c.req.arrayBuffer()),
          contentType: c.req.header('content-type'),
          signature: c.req.header('x-hub-signature-256'),
          authorization: c.req.header('authorization'),
          fonnteSecret: c.req.header(FONNTE_SECRET_HEADER),
        },
        correlationId: c.var.correlationId,
        logger: c.var.logger,
        ...(deps.lockTimeoutMs !== undefined ? { lockTimeoutMs: deps.lockTimeoutMs } : {}),
      });
      return c.json(result, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/meta-cloud/{key}',
      tags: ['WhatsApp webhooks'],
      summary: "Meta's subscription handshake: echoes hub.challenge when hub.verify_token matches",
      request: { params: ZWebhookParams.pick({ key: true }), query: ZHandshakeQuery },
      responses: {
        200: { description: 'The challenge', content: { 'text/plain': { schema: z.string() } } },
        403: problem('Wrong mode or verify token, or none configured'),
        404: problem('Unknown key'),
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const challenge = await answerMetaHandshake({
        pool: deps.appPool,
        whatsapp: deps.whatsapp,
        key: c.req.valid('param').key,
        query: { mode: query['hub.mode'], verifyToken: query['hub.verify_token'], challenge: query['hub.challenge'] },
      });
      return c.text(challenge, 200);
    },
  );

  return router;
}
