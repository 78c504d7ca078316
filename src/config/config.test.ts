import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('defaults to embedded PostgreSQL on port 3000', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.database.mode).toBe('embedded');
    expect(config.dataDir).toMatch(/\.dealix$/);
    expect(config.jwt).toEqual({ mode: 'hs256', secret: undefined });
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig({ DATABASE_URL: '', PORT: '', DEALIX_JWT_SECRET: '' });
    expect(config.database.mode).toBe('embedded');
    expect(config.port).toBe(3000);
  });

  it('lists every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'abc', DEALIX_JWT_SECRET: 'short', DATABASE_URL: 'not a url', LOG_LEVEL: 'loud', DEALIX_SEED_DEMO: 'maybe' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'DEALIX_JWT_SECRET', 'DATABASE_URL', 'LOG_LEVEL', 'DEALIX_SEED_DEMO']) expect(problems).toContain(name);
  });

  it('external mode needs the app connection and a token verifier', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://owner:pw@db/dealix' })).toThrow(/DATABASE_APP_URL[\s\S]*DEALIX_JWT_SECRET[\s\S]*DEALIX_MASTER_KEY/);
    const config = loadConfig({
      DATABASE_URL: 'postgres://owner:pw@db/dealix',
      DATABASE_APP_URL: 'postgres://dealix_app:pw@db/dealix',
      DEALIX_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
      DEALIX_MASTER_KEY: 'ab'.repeat(32),
    });
    expect(config.database).toMatchObject({ mode: 'external', appUrl: 'postgres://dealix_app:pw@db/dealix' });
    expect(config.jwt.mode).toBe('jwks');
  });

  it('refuses both an HS256 secret and a JWKS URL', () => {
    expect(() => loadConfig({ DEALIX_JWT_SECRET: 'x'.repeat(32), DEALIX_JWKS_URL: 'https://idp.example/jwks' })).toThrow(/not both/);
  });
});

describe('HTTP timeouts', () => {
  it('default above common load-balancer idle timeouts, and read the variables', () => {
    expect(loadConfig({}).http).toEqual({ keepAliveTimeoutMs: 65_000, headersTimeoutMs: 66_000, requestTimeoutMs: 120_000 });
    const config = loadConfig({ DEALIX_KEEP_ALIVE_TIMEOUT_MS: '350000', DEALIX_HEADERS_TIMEOUT_MS: '351000', DEALIX_REQUEST_TIMEOUT_MS: '400000' });
    expect(config.http).toEqual({ keepAliveTimeoutMs: 350_000, headersTimeoutMs: 351_000, requestTimeoutMs: 400_000 });
  });

  it('refuse a headers timeout not above the keep-alive one, and a request timeout below the headers one', () => {
    expect(() => loadConfig({ DEALIX_KEEP_ALIVE_TIMEOUT_MS: '66000' })).toThrow(/DEALIX_HEADERS_TIMEOUT_MS: must be greater than DEALIX_KEEP_ALIVE_TIMEOUT_MS/);
    expect(() => loadConfig({ DEALIX_HEADERS_TIMEOUT_MS: '130000' })).toThrow(/DEALIX_REQUEST_TIMEOUT_MS: must be at least DEALIX_HEADERS_TIMEOUT_MS/);
    expect(() => loadConfig({ DEALIX_KEEP_ALIVE_TIMEOUT_MS: '10' })).toThrow(/DEALIX_KEEP_ALIVE_TIMEOUT_MS/);
  });
});

describe('WhatsApp providers from the environment (SPEC §4)', () => {
  it('none configured: no providers, order undefined (the sandbox sends)', () => {
    expect(loadConfig({}).whatsapp).toEqual({ order: undefined, providers: {}, timeoutMs: 10_000, allowedApiOrigins: [] });
  });

  it('reads each provider’s set, and the fallback order', () => {
    const config = loadConfig({
      GREEN_API_INSTANCE_ID: '1101000001',
      GREEN_API_TOKEN: 'g-token',
      FONNTE_TOKEN: 'f-token',
      WHATSAPP_API_TOKEN: 'm-token',
      WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
      WHATSAPP_APP_SECRET: 'm-secret',
      WHATSAPP_PROVIDERS: 'meta-cloud, green-api',
      WHATSAPP_TIMEOUT_MS: '5000',
    });
    expect(config.whatsapp).toEqual({
      order: ['meta-cloud', 'green-api'],
      providers: {
        'green-api': { instance_id: '1101000001', token: 'g-token' },
        fonnte: { token: 'f-token' },
        'meta-cloud': { access_token: 'm-token', phone_number_id: '106540352242922', app_secret: 'm-secret' },
      },
      timeoutMs: 5000,
      allowedApiOrigins: [],
    });
  });

  it('WHATSAPP_ALLOWED_API_HOSTS: origins, http allowed, normalised; anything after the host is refused', () => {
    expect(loadConfig({ WHATSAPP_ALLOWED_API_HOSTS: ' https://Proxy.Example.com , http://127.0.0.1:8080/ ' }).whatsapp.allowedApiOrigins).toEqual([
      'https://proxy.example.com',
      'http://127.0.0.1:8080',
    ]);
    expect(() => loadConfig({ WHATSAPP_ALLOWED_API_HOSTS: 'https://proxy.example.com/api,ftp://x,not a url' })).toThrow(
      /WHATSAPP_ALLOWED_API_HOSTS.*"https:\/\/proxy\.example\.com\/api" is not an origin[\s\S]*"ftp:\/\/x"[\s\S]*"not a url"/,
    );
  });

  it('refuses half a set and unknown or repeated names, listing each', () => {
    let problems: readonly string[] = [];
    try {
      loadConfig({ GREEN_API_INSTANCE_ID: '1', WHATSAPP_APP_SECRET: 's', WHATSAPP_PROVIDERS: 'green-api,telegram,green-api' });
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^GREEN_API_TOKEN: Green API: GREEN_API_INSTANCE_ID set but GREEN_API_TOKEN missing/),
        expect.stringMatching(/^WHATSAPP_API_TOKEN: Meta WhatsApp Cloud API/),
        expect.stringMatching(/^WHATSAPP_PHONE_NUMBER_ID: /),
        expect.stringMatching(/^WHATSAPP_PROVIDERS/),
      ]),
    );
  });
});
