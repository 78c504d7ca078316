import { z } from '@hono/zod-openapi';
import { INTENT_VALUES, LANGUAGE_VALUES } from './intents.ts';

export const ZClassifyIntentRequest = z
  .strictObject({
    text: z
      .string({ message: 'must be a string' })
      .trim()
      .min(1, 'must not be empty')
      .max(4000, 'must be at most 4000 characters')
      .openapi({ example: 'ابغى اعرف كم السعر للباقه السنويه؟', description: 'The inbound message, as the customer wrote it' }),
  })
  .openapi('ClassifyIntentRequest');
export type TClassifyIntentRequest = z.infer<typeof ZClassifyIntentRequest>;

export const ZIntentClassification = z
  .object({
    intent: z.enum(INTENT_VALUES).openapi({ example: 'price_inquiry' }),
    confidence: z.number().min(0).max(1).openapi({ example: 0.93, description: "A rule's fixed confidence, or the model's probability" }),
    language: z.enum(LANGUAGE_VALUES).openapi({ example: 'ar', description: 'ar, en, arabizi (Arabic in Latin letters) or mixed' }),
    reason: z.string().openapi({
      example: 'model: price_inquiry 0.93, next negotiation 0.03',
      description: 'The rule that matched or the model’s top candidates; for a low-confidence `unknown`, what it would have been',
    }),
  })
  .openapi('IntentClassification');
export type TIntentClassification = z.infer<typeof ZIntentClassification>;
