/**
 * The WhatsApp part of the environment, as config needs it to parse and hand over SPEC §4's
 * variables. It lives here, not in src/whatsapp, because the kernel imports no domain:
 * src/whatsapp/outbound builds on these names and shapes (its provider settings must accept
 * every value typed here, which tsc checks where the environment's settings are used).
 */

/** The providers that reach real phones, in SPEC §4's default fallback order. */
export const WHATSAPP_PROVIDER_NAMES = ['green-api', 'ultramsg', 'fonnte', 'meta-cloud'] as const;
export type WhatsAppProviderName = (typeof WHATSAPP_PROVIDER_NAMES)[number];

/** One provider account per provider, as the environment's variables give it. */
export interface EnvProviderAccounts {
  'green-api': { instance_id: string; token: string; api_url?: string; webhook_token?: string };
  ultramsg: { instance_id: string; token: string; api_url?: string };
  fonnte: { token: string; api_url?: string; webhook_secret?: string };
  'meta-cloud': { access_token: string; phone_number_id: string; api_url?: string; api_version?: string; app_secret?: string; verify_token?: string };
}

/**
 * An origin as the operator writes it in WHATSAPP_ALLOWED_API_HOSTS: `https://host[:port]` or
 * `http://host[:port]`, nothing after the host. Undefined when it is not one.
 *
 * @example
 * parseAllowedOrigin('http://127.0.0.1:8080') // 'http://127.0.0.1:8080'
 * parseAllowedOrigin('https://proxy.internal/path') // undefined
 */
export function parseAllowedOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) return undefined;
  return url.origin;
}
