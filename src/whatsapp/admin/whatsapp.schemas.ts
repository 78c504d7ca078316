import { z } from '@hono/zod-openapi';
import { PROVIDER_NAMES, REAL_PROVIDER_NAMES } from '../outbound/provider.ts';

export const ZProviderParam = z.object({
  name: z.enum(REAL_PROVIDER_NAMES).openapi({ param: { name: 'name', in: 'path' }, example: 'green-api' }),
});

export const ZProviderCredentialsRequest = z
  .record(z.string(), z.unknown())
  .openapi('ProviderCredentialsRequest', {
    description:
      'green-api: {instance_id, token, api_url?, webhook_token?}; ultramsg: {instance_id, token, api_url?}; fonnte: {token, api_url?, webhook_secret?}; ' +
      'meta-cloud: {access_token, phone_number_id, api_url?, api_version?, app_secret?, verify_token?}. Stored encrypted; never returned.',
    example: { instance_id: '1101000001', token: '…' },
  });

export const ZProviderCredentialsSaved = z
  .object({
    provider: z.enum(REAL_PROVIDER_NAMES),
    configured: z.literal(true),
    source: z.literal('tenant'),
    /** Which settings are set (names only). */
    fields: z.array(z.string()),
    updated_at: z.string(),
  })
  .openapi('ProviderCredentialsSaved');

const ZAttempt = z.object({
  provider: z.enum(PROVIDER_NAMES),
  startedAt: z.union([z.string(), z.date()]),
  latencyMs: z.number(),
  outcome: z.enum(['accepted', 'transient', 'permanent', 'skipped']),
  reason: z.string().optional(),
  code: z.string().optional(),
  externalId: z.string().optional(),
  retryAfterMs: z.number().optional(),
});

/** A test send's run output (GET /flows/{id} once completed): the chain's verdict and every attempt. */
export const ZTestSendRunOutput = z
  .object({
    result: z.object({
      kind: z.enum(['accepted', 'transient', 'permanent']),
      provider: z.enum(PROVIDER_NAMES).optional(),
      externalId: z.string().optional(),
      reason: z.string().optional(),
      code: z.string().optional(),
    }),
    attempts: z.array(ZAttempt),
  })
  .openapi('TestSendRunOutput');

export const ZProviderStatusList = z
  .object({
    data: z.array(
      z.object({
        name: z.enum(PROVIDER_NAMES),
        configured: z.boolean(),
        source: z.enum(['tenant', 'environment']).nullable(),
        position: z.number().int().nullable(),
        circuit: z.enum(['closed', 'open', 'half_open']).nullable(),
        credentials_updated_at: z.string().nullable(),
        credentials_updated_by: z.string().nullable(),
        last_success_at: z.string().nullable(),
        last_error: z.object({ at: z.string(), code: z.string().nullable(), reason: z.string().nullable() }).nullable(),
        calls_24h: z.number().int(),
        error_rate_24h: z.number().nullable(),
        p50_latency_ms: z.number().nullable(),
      }),
    ),
  })
  .openapi('WhatsAppProviderStatusList');

export const ZTestSendRequest = z
  .strictObject({
    to: z.string().trim().min(5).max(32).openapi({ example: '0551234567' }),
    text: z.string().trim().min(1).max(4096),
    approval_token: z.string().optional().openapi({ description: 'A token from an approved request for exactly this payload (class B)' }),
  })
  .openapi('TestSendRequest');

export const ZTestSendResponse = z
  .object({
    decision_id: z.uuid(),
    correlation_id: z.string(),
    result: z.enum(['accepted', 'requires_approval']),
    approval_request_id: z.uuid().nullable(),
    flow_run_id: z.uuid().nullable(),
    run_status: z
      .enum(['pending'])
      .nullable()
      .openapi({ description: 'pending when accepted (poll the Location for the attempts); null while waiting for approval' }),
  })
  .openapi('TestSendResponse');
