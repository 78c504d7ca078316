import { z } from '@hono/zod-openapi';
import type { RealProviderName, WhatsAppProvider } from './provider.ts';
import { apiUrlProblem, type ProviderEgress } from './providers/egress.ts';
import { createFonnteProvider, createGreenApiProvider, createMetaCloudProvider, createUltramsgProvider } from './providers/index.ts';

const secret = (what: string) => z.string().trim().min(1, `${what} is required`).max(500);
const baseUrl = z
  .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
  .optional()
  .openapi({ description: "The provider's API origin. A tenant may only set https and a host the provider documents, unless the operator lists the origin in WHATSAPP_ALLOWED_API_HOSTS" });

/**
 * What each provider needs, as the admin sends it (PUT /whatsapp/providers/{name}) and as the
 * environment gives it (SPEC §4's variables). `*_url` overrides the provider's API host (a
 * regional host, or a local fake in tests). Webhook secrets sit beside the send credentials:
 * they belong to the same account.
 */
export const PROVIDER_SETTINGS = {
  'green-api': z.strictObject({
    instance_id: secret('instance_id'),
    token: secret('token'),
    api_url: baseUrl.openapi({ description: 'The instance host shown in the console, e.g. https://7103.api.greenapi.com (default https://api.green-api.com)' }),
    webhook_token: secret('webhook_token').optional().openapi({ description: 'webhookUrlToken: Green API sends it as the Authorization header' }),
  }),
  ultramsg: z.strictObject({
    instance_id: secret('instance_id'),
    token: secret('token'),
    api_url: baseUrl,
  }),
  fonnte: z.strictObject({
    token: secret('token'),
    api_url: baseUrl,
    webhook_secret: secret('webhook_secret').optional().openapi({ description: "Fonnte's webhook secret key, when set in its console" }),
  }),
  'meta-cloud': z.strictObject({
    access_token: secret('access_token'),
    phone_number_id: z.string().trim().regex(/^\d{5,30}$/, 'must be the numeric phone number id'),
    api_url: baseUrl,
    api_version: z
      .string()
      .regex(/^v\d+\.\d+$/, 'must look like v23.0')
      .optional(),
    app_secret: secret('app_secret').optional().openapi({ description: 'Verifies X-Hub-Signature-256 on webhooks' }),
    verify_token: secret('verify_token').optional().openapi({ description: 'Answers the GET verification handshake' }),
  }),
} as const satisfies Record<RealProviderName, z.ZodType>;

/**
 * The settings a tenant admin may save: the provider's shape, and an `api_url` that passes the
 * egress rules (https, a documented host, or an origin the operator allows). The environment's
 * own settings skip this: the operator set them.
 *
 * @example
 * const parsed = tenantProviderSettings('fonnte', config.whatsapp.allowedApiOrigins).safeParse(body);
 */
export function tenantProviderSettings(name: RealProviderName, allowedOrigins: readonly string[]): z.ZodType<AnyProviderSettings> {
  const shape: z.ZodType<AnyProviderSettings> = PROVIDER_SETTINGS[name];
  return shape.superRefine((settings, ctx) => {
    const url = (settings as { api_url?: string }).api_url;
    const problem = url === undefined ? undefined : apiUrlProblem(name, url, allowedOrigins);
    if (problem) ctx.addIssue({ code: 'custom', path: ['api_url'], message: problem });
  });
}

export type ProviderSettings = { [P in RealProviderName]: z.infer<(typeof PROVIDER_SETTINGS)[P]> };
export type AnyProviderSettings = ProviderSettings[RealProviderName];

/**
 * A provider from its settings; its requests go only where `egress` lets them.
 *
 * @example
 * const provider = createProvider('fonnte', { token }, { timeoutMs: 10_000, egress });
 */
export function createProvider<P extends RealProviderName>(name: P, settings: ProviderSettings[P], options: { timeoutMs: number; egress: ProviderEgress }): WhatsAppProvider {
  const { timeoutMs, egress } = options;
  switch (name) {
    case 'green-api': {
      const s = settings as ProviderSettings['green-api'];
      return createGreenApiProvider({ instanceId: s.instance_id, token: s.token, ...(s.api_url ? { apiUrl: s.api_url } : {}), timeoutMs, egress });
    }
    case 'ultramsg': {
      const s = settings as ProviderSettings['ultramsg'];
      return createUltramsgProvider({ instanceId: s.instance_id, token: s.token, ...(s.api_url ? { apiUrl: s.api_url } : {}), timeoutMs, egress });
    }
    case 'fonnte': {
      const s = settings as ProviderSettings['fonnte'];
      return createFonnteProvider({ token: s.token, ...(s.api_url ? { apiUrl: s.api_url } : {}), timeoutMs, egress });
    }
    case 'meta-cloud': {
      const s = settings as ProviderSettings['meta-cloud'];
      return createMetaCloudProvider({
        accessToken: s.access_token,
        phoneNumberId: s.phone_number_id,
        ...(s.api_url ? { apiUrl: s.api_url } : {}),
        ...(s.api_version ? { apiVersion: s.api_version } : {}),
        timeoutMs,
        egress,
      });
    }
    default:
      throw new Error(`unknown provider ${String(name)}`);
  }
}
