import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfiguredProvider } from '../../src/whatsapp/outbound/credentials.store.ts';
import { createWhatsAppService, type WhatsAppService } from '../../src/whatsapp/outbound/whatsapp-service.ts';
import { startFakeGreenApi, startFakeUltramsg, type FakeGreenApi, type FakeUltramsg } from '../support/fake-whatsapp/index.ts';

/**
 * Issue 9 item 17: breakers and rate-limit buckets belong to the provider account (provider,
 * instance, credential), whichever chain sends through it, and the caches holding them are bounded.
 */
let green: FakeGreenApi;
let ultra: FakeUltramsg;
const services: WhatsAppService[] = [];

beforeAll(async () => {
  [green, ultra] = await Promise.all([startFakeGreenApi({ instanceId: '1101000001', token: 'green-token' }), startFakeUltramsg()]);
});
afterAll(async () => {
  for (const service of services) service.shutdown();
  await Promise.all([green?.close(), ultra?.close()]);
});

function service(options: Partial<Parameters<typeof createWhatsAppService>[0]> = {}): WhatsAppService {
  const created = createWhatsAppService({
    config: { order: undefined, providers: {}, timeoutMs: 2_000, allowedApiOrigins: [green.url, ultra.url] },
    masterKey: Buffer.alloc(32),
    ...options,
  });
  services.push(created);
  return created;
}

const greenAs = (source: ConfiguredProvider['source'], token = green.token): ConfiguredProvider => ({
  name: 'green-api',
  settings: { instance_id: green.instanceId, token, api_url: green.url },
  source,
  position: 1,
});
const ultraAt = (position: number): ConfiguredProvider => ({
  name: 'ultramsg',
  settings: { instance_id: ultra.instanceId, token: ultra.token, api_url: ultra.url },
  source: 'tenant',
  position,
});
let n = 0;
const message = () => ({ to: '+966512345678', text: 'مرحبا', idempotencyKey: `k-${++n}`, outboundId: `o-${n}` });
const attempts = (output: { attempts: Array<{ provider: string; outcome: string; code?: string }> }) =>
  output.attempts.map((attempt) => `${attempt.provider}:${attempt.outcome}${attempt.code ? `:${attempt.code}` : ''}`);

describe('provider accounts are shared across chains', () => {
  it('one Green API instance has one rate budget, however many chains send through it', async () => {
    const at = Date.now();
    const whatsapp = service({ chain: { rateLimits: { 'green-api': { perSecond: 1, burst: 1 } }, maxWaitMs: 0, now: () => at } });
    green.reset();
    ultra.reset();
    // A tenant using the environment's account, another with the same credentials of its own, and a longer chain.
    const alone = whatsapp.chainFor([greenAs('environment')]);
    const withFallback = whatsapp.chainFor([greenAs('tenant'), ultraAt(2)]);
    expect(alone).not.toBe(withFallback);
    expect(attempts(await alone!.send({ message: message(), lastInboundAt: new Date() }))).toEqual(['green-api:accepted']);
    expect(attempts(await withFallback!.send({ message: message(), lastInboundAt: new Date() }))).toEqual(['green-api:skipped:rate_limited', 'ultramsg:accepted']);
    expect(green.requests).toHaveLength(1);
  });

  it('one breaker per account: opened through one chain, the other chain skips it too', async () => {
    const whatsapp = service({ chain: { breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeout: 60_000 } } });
    green.reset();
    green.respondWith({ status: 503 }, { status: 503 });
    const alone = whatsapp.chainFor([greenAs('tenant')]);
    for (let i = 0; i < 2; i++) await alone!.send({ message: message(), lastInboundAt: new Date() });
    expect(whatsapp.circuitState(greenAs('tenant'))).toBe('open');
    const other = whatsapp.chainFor([greenAs('environment'), ultraAt(2)]);
    expect(other!.circuitState('green-api')).toBe('open');
    expect(attempts(await other!.send({ message: message(), lastInboundAt: new Date() }))).toEqual(['green-api:skipped:circuit_open', 'ultramsg:accepted']);
    expect(green.requests).toHaveLength(2);
  });

  it('another credential is another account', () => {
    const whatsapp = service();
    whatsapp.chainFor([greenAs('tenant')])!.circuitState('green-api');
    whatsapp.chainFor([greenAs('tenant', 'other-token')])!.circuitState('green-api');
    expect(whatsapp.cacheSizes()).toMatchObject({ chains: 2, accounts: 2 });
  });
});

describe('the caches are bounded', () => {
  it('keeps at most the configured chains and accounts, and shuts an evicted account’s breaker down', () => {
    const whatsapp = service({ cacheLimits: { chains: 2, accounts: 2 } });
    const first = greenAs('tenant', 'token-1');
    whatsapp.chainFor([first])!.circuitState('green-api');
    const breaker = whatsapp.accountFor(first)?.breaker;
    expect(breaker?.isShutdown).toBe(false);
    for (const token of ['token-2', 'token-3', 'token-4']) whatsapp.chainFor([greenAs('tenant', token)])!.circuitState('green-api');
    expect(whatsapp.cacheSizes()).toMatchObject({ chains: 2, accounts: 2 });
    expect(whatsapp.accountFor(first)).toBeUndefined();
    expect(breaker?.isShutdown).toBe(true);
  });

  it('shutdown() shuts every breaker down', () => {
    const whatsapp = service();
    whatsapp.chainFor([greenAs('tenant', 'token-x')])!.circuitState('green-api');
    const breaker = whatsapp.accountFor(greenAs('tenant', 'token-x'))?.breaker;
    whatsapp.shutdown();
    expect(breaker?.isShutdown).toBe(true);
    expect(whatsapp.cacheSizes()).toMatchObject({ chains: 0, accounts: 0 });
  });
});
