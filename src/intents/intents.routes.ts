import { createRoute } from '@hono/zod-openapi';
import { requirePermission } from '../auth/auth.middleware.ts';
import { BEARER, COMMON_ERROR_RESPONSES, createRouter, jsonBody, jsonResponse } from '../http/router.ts';
import { classifyIntent } from './classify-intent.ts';
import { ZClassifyIntentRequest, ZIntentClassification } from './intents.schemas.ts';

export function intentsRoutes() {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: '/intents/classify',
      tags: ['Intents'],
      summary: 'Classify one inbound message (Arabic, English, Arabizi or mixed); changes nothing',
      description:
        'Normalisation, then high-precision rules (opt-out first, PDPL Art. 25), then a character n-gram model trained on the ' +
        'shipped data set. Below the confidence threshold the intent is `unknown`, so that a human reads the message.',
      security: BEARER,
      middleware: [requirePermission('intents:classify')] as const,
      request: { body: jsonBody(ZClassifyIntentRequest) },
      responses: { 200: jsonResponse(ZIntentClassification, 'The intent, its confidence, the language and why'), ...COMMON_ERROR_RESPONSES },
    }),
    (c) => c.json(classifyIntent({ text: c.req.valid('json').text }), 200),
  );

  return router;
}
