import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OutboundWhatsApp, ProviderName, SendResult, WhatsAppProvider } from './provider.ts';
import { createProviderChain, sendWhatsAppSmart, type AttemptEvent, type ProviderChain, type ProviderChainOptions } from './send-smart.ts';

const T0 = Date.parse('2026-11-22T06:00:00Z');
const HOUR = 60 * 60 * 1000;

/** Stands in for an external provider: answers from a script (or a function) and records every call. */
interface ScriptedProvider extends WhatsAppProvider {
  calls: OutboundWhatsApp[];
}

type Answer = SendResult | Error;

function scripted(name: ProviderName, answer: Answer | ((message: OutboundWhatsApp, callIndex: number) => Answer)): ScriptedProvider {
  const provider: ScriptedProvider = {
    name,
    calls: [],
    async send(message) {
      provider.calls.push(message);
      const next = typeof answer === 'function' ? answer(message, provider.calls.length - 1) : answer;
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return provider;
}

const accepted = (externalId: string): SendResult => ({ kind: 'accepted', externalId });
const transient = (reason: string, extra: { code?: string; retryAfterMs?: number } = {}): SendResult => ({ kind: 'transient', reason, ...extra });
const permanent = (reason: string, code?: string): SendResult => ({ kind: 'permanent', reason, ...(code ? { code } : {}) });

function message(overrides: Partial<OutboundWhatsApp> = {}): OutboundWhatsApp {
  return {
    to: '+966512345678',
    text: 'مرحبا، عرض السعر جاهز',
    idempotencyKey: 'flow-run-1:step-3:send',
    outboundId: '01900000-0000-7000-8000-000000000001',
    ...overrides,
  };
}

const template = { name: 'price_followup', language: 'ar' as const, parameters: ['أبو خالد'] };

const chains: ProviderChain[] = [];
afterEach(() => {
  for (const chain of chains.splice(0)) chain.shutdown();
});

/** A chain on a manual clock: `sleep` advances the clock instead of waiting. */
function chainOf(providers: WhatsAppProvider[], options: Partial<ProviderChainOptions> = {}) {
  let at = T0;
  const sleeps: number[] = [];
  const chain = createProviderChain({
    providers,
    now: () => at,
    sleep: async (ms) => {
      sleeps.push(ms);
      at += ms;
    },
    ...options,
  });
  chains.push(chain);
  return { chain, sleeps, advance: (ms: number) => void (at += ms), now: () => at };
}

/** Inside Meta's window, so tests about other rules are not skipped for it. */
const recentlyWrote = new Date(T0 - HOUR);

describe('fallback order', () => {
  it('first provider transient → the second sends', async () => {
    const green = scripted('green-api', transient('HTTP 503', { code: 'http_503' }));
    const ultra = scripted('ultramsg', accepted('ultra-1'));
    const { chain } = chainOf([green, ultra]);

    const { result, attempts } = await chain.send({ message: message() });

    expect(result).toEqual({ kind: 'accepted', externalId: 'ultra-1', provider: 'ultramsg' });
    expect(attempts.map((a) => [a.provider, a.outcome, a.code])).toEqual([
      ['green-api', 'transient', 'http_503'],
      ['ultramsg', 'accepted', undefined],
    ]);
    expect(attempts[1]?.externalId).toBe('ultra-1');
    expect(green.calls).toHaveLength(1);
    expect(ultra.calls).toHaveLength(1);
  });

  it('all transient → transient naming every reason, smallest retryAfterMs, nothing accepted', async () => {
    const green = scripted('green-api', transient('HTTP 429', { code: 'http_429', retryAfterMs: 2_000 }));
    const ultra = scripted('ultramsg', transient('timeout after 10 s'));
    const fonnte = scripted('fonnte', transient('connection refused', { retryAfterMs: 500 }));
    const { chain } = chainOf([green, ultra, fonnte]);

    const { result, attempts } = await chain.send({ message: message() });

    expect(result).toEqual({
      kind: 'transient',
      reason: 'green-api: HTTP 429; ultramsg: timeout after 10 s; fonnte: connection refused',
      retryAfterMs: 500,
    });
    expect(attempts.map((a) => a.outcome)).toEqual(['transient', 'transient', 'transient']);
    expect([green, ultra, fonnte].map((p) => p.calls.length)).toEqual([1, 1, 1]);
  });

  it('permanent → stop: the next provider is never called', async () => {
    const meta = scripted('meta-cloud', permanent('not a WhatsApp user', '131026'));
    const green = scripted('green-api', accepted('green-1'));
    const { chain } = chainOf([meta, green]);

    const { result, attempts } = await chain.send({ message: message(), lastInboundAt: recentlyWrote });

    expect(result).toEqual({ kind: 'permanent', reason: 'not a WhatsApp user', code: '131026', provider: 'meta-cloud' });
    expect(attempts).toHaveLength(1);
    expect(green.calls).toHaveLength(0);
  });

  it('accepted → no other provider is called (accepted is not delivered: a second send would reach the customer twice)', async () => {
    const green = scripted('green-api', accepted('green-1'));
    const ultra = scripted('ultramsg', accepted('ultra-1'));
    const { chain } = chainOf([green, ultra]);

    const { result, attempts } = await chain.send({ message: message() });

    expect(result).toEqual({ kind: 'accepted', externalId: 'green-1', provider: 'green-api' });
    expect(attempts).toHaveLength(1);
    expect(ultra.calls).toHaveLength(0);
  });

  it('no provider configured → permanent no_provider', async () => {
    const { chain } = chainOf([]);
    const { result, attempts } = await sendWhatsAppSmart(chain, { message: message() });
    expect(result).toMatchObject({ kind: 'permanent', code: 'no_provider' });
    expect(attempts).toEqual([]);
    expect(chain.providers).toEqual([]);
  });

  it('lists providers in order and refuses the same provider twice', () => {
    const { chain } = chainOf([scripted('fonnte', accepted('f')), scripted('green-api', accepted('g'))]);
    expect(chain.providers).toEqual(['fonnte', 'green-api']);
    expect(() => createProviderChain({ providers: [scripted('fonnte', accepted('a')), scripted('fonnte', accepted('b'))] })).toThrow(/twice/);
  });

  it('carries the idempotency key to every provider unchanged', async () => {
    const green = scripted('green-api', transient('HTTP 502'));
    const ultra = scripted('ultramsg', transient('HTTP 500'));
    const meta = scripted('meta-cloud', accepted('wamid.1'));
    const { chain } = chainOf([green, ultra, meta]);

    await chain.send({ message: message({ idempotencyKey: 'run-42:send:0' }), lastInboundAt: recentlyWrote });

    for (const provider of [green, ultra, meta]) {
      expect(provider.calls.map((m) => [m.idempotencyKey, m.outboundId])).toEqual([['run-42:send:0', message().outboundId]]);
    }
  });

  it('a provider that throws (a bug) → transient with a reason, and the next provider sends', async () => {
    const green = scripted('green-api', new TypeError('cannot read idMessage of undefined at https://api.green-api.com/waInstance1/sendMessage/SECRET'));
    const ultra = scripted('ultramsg', accepted('ultra-1'));
    const { chain } = chainOf([green, ultra]);

    const { result, attempts } = await chain.send({ message: message() });

    expect(result).toMatchObject({ kind: 'accepted', provider: 'ultramsg' });
    expect(attempts[0]).toMatchObject({ provider: 'green-api', outcome: 'transient', code: 'provider_exception' });
    expect(attempts[0]?.reason).toMatch(/^provider threw: TypeError: cannot read idMessage/);
    // The URL (Green API's token lives in its path) is not copied into the reason.
    expect(attempts[0]?.reason).not.toContain('SECRET');
  });
});

describe('circuit breaker', () => {
  it('opens after repeated transient failures, then skips the provider without calling it', async () => {
    const green = scripted('green-api', transient('HTTP 503'));
    const ultra = scripted('ultramsg', accepted('ultra'));
    const { chain } = chainOf([green, ultra], { breaker: { volumeThreshold: 5, errorThresholdPercentage: 50 } });

    for (let i = 0; i < 5; i++) {
      expect(chain.circuitState('green-api')).toBe('closed');
      await chain.send({ message: message() });
    }
    expect(chain.circuitState('green-api')).toBe('open');
    expect(green.calls).toHaveLength(5);

    const { result, attempts } = await chain.send({ message: message() });

    expect(green.calls).toHaveLength(5);
    expect(attempts[0]).toMatchObject({ provider: 'green-api', outcome: 'skipped', reason: 'circuit open', code: 'circuit_open' });
    expect(result).toMatchObject({ kind: 'accepted', provider: 'ultramsg' });
    expect(chain.circuitState('ultramsg')).toBe('closed');
  });

  it('an open circuit counts as transient in the final verdict', async () => {
    const green = scripted('green-api', transient('HTTP 503'));
    const { chain } = chainOf([green], { breaker: { volumeThreshold: 1 } });
    await chain.send({ message: message() });
    expect(chain.circuitState('green-api')).toBe('open');
    const { result } = await chain.send({ message: message() });
    expect(result).toEqual({ kind: 'transient', reason: 'green-api: circuit open' });
  });

  it('half-opens after resetTimeout; a successful trial closes it', async () => {
    let healthy = false;
    const green = scripted('green-api', () => (healthy ? accepted('green-ok') : transient('HTTP 503')));
    const { chain } = chainOf([green], { breaker: { volumeThreshold: 2, resetTimeout: 40 } });

    await chain.send({ message: message() });
    await chain.send({ message: message() });
    expect(chain.circuitState('green-api')).toBe('open');

    // opossum's reset timer is a real setTimeout; poll rather than guess a sleep.
    await vi.waitFor(() => expect(chain.circuitState('green-api')).toBe('half_open'), { timeout: 2_000, interval: 10 });
    healthy = true;
    const { result } = await chain.send({ message: message() });

    expect(result).toMatchObject({ kind: 'accepted', externalId: 'green-ok' });
    expect(green.calls).toHaveLength(3);
    expect(chain.circuitState('green-api')).toBe('closed');
  });

  it('a failed half-open trial opens it again', async () => {
    const green = scripted('green-api', transient('HTTP 503'));
    const { chain } = chainOf([green], { breaker: { volumeThreshold: 1, resetTimeout: 40 } });
    await chain.send({ message: message() });
    await vi.waitFor(() => expect(chain.circuitState('green-api')).toBe('half_open'), { timeout: 2_000, interval: 10 });
    await chain.send({ message: message() });
    expect(chain.circuitState('green-api')).toBe('open');
    expect(green.calls).toHaveLength(2);
  });

  it('permanent answers do not trip it: an invalid number is not the provider being down', async () => {
    const green = scripted('green-api', permanent('invalid number', 'invalid_number'));
    const { chain } = chainOf([green], { breaker: { volumeThreshold: 2, errorThresholdPercentage: 10 } });

    for (let i = 0; i < 10; i++) await chain.send({ message: message() });

    expect(chain.circuitState('green-api')).toBe('closed');
    expect(green.calls).toHaveLength(10);
  });

  it('accepted results pass through the breaker untouched, even while it is half-open', async () => {
    let call = 0;
    const green = scripted('green-api', () => (call++ === 0 ? transient('HTTP 503') : accepted('after-trial')));
    const { chain } = chainOf([green], { breaker: { volumeThreshold: 1, resetTimeout: 40 } });
    await chain.send({ message: message() });
    await vi.waitFor(() => expect(chain.circuitState('green-api')).toBe('half_open'), { timeout: 2_000, interval: 10 });
    const { result } = await chain.send({ message: message() });
    expect(result).toEqual({ kind: 'accepted', externalId: 'after-trial', provider: 'green-api' });
  });

  it('circuitState refuses a provider that is not in the chain', () => {
    const { chain } = chainOf([scripted('green-api', accepted('g'))]);
    expect(() => chain.circuitState('fonnte')).toThrow(/not in this chain/);
  });
});

describe('rate limits', () => {
  it('green-api: the 51st send within a second waits for a token when the wait is short', async () => {
    const green = scripted('green-api', (_m, i) => accepted(`green-${i}`));
    const ultra = scripted('ultramsg', accepted('ultra'));
    const { chain, sleeps } = chainOf([green, ultra]);

    for (let i = 0; i < 50; i++) await chain.send({ message: message({ to: `+9665${String(i).padStart(8, '0')}` }) });
    expect(sleeps).toEqual([]);

    const { result } = await chain.send({ message: message() });

    expect(sleeps).toEqual([20]); // 50/s → one token every 20 ms
    expect(result).toMatchObject({ kind: 'accepted', provider: 'green-api' });
    expect(green.calls).toHaveLength(51);
    expect(ultra.calls).toHaveLength(0);
  });

  it('green-api: the 51st send falls through to the next provider when the wait is too long', async () => {
    const green = scripted('green-api', accepted('green'));
    const ultra = scripted('ultramsg', accepted('ultra'));
    const { chain, sleeps } = chainOf([green, ultra], { maxWaitMs: 10 });

    for (let i = 0; i < 50; i++) await chain.send({ message: message() });
    const { result, attempts } = await chain.send({ message: message() });

    expect(sleeps).toEqual([]);
    expect(green.calls).toHaveLength(50);
    expect(attempts[0]).toMatchObject({ provider: 'green-api', outcome: 'skipped', code: 'rate_limited', reason: 'rate limited', retryAfterMs: 20 });
    expect(result).toMatchObject({ kind: 'accepted', provider: 'ultramsg' });
  });

  it('rate limited everywhere → transient with the retryAfterMs', async () => {
    const green = scripted('green-api', accepted('green'));
    const { chain } = chainOf([green], { maxWaitMs: 0, rateLimits: { 'green-api': { perSecond: 1, burst: 1 } } });
    await chain.send({ message: message() });
    const { result } = await chain.send({ message: message() });
    expect(result).toEqual({ kind: 'transient', reason: 'green-api: rate limited', retryAfterMs: 1_000 });
  });

  it('ultramsg and fonnte are unlimited by default, and configurable', async () => {
    const ultra = scripted('ultramsg', accepted('u'));
    const fonnte = scripted('fonnte', accepted('f'));
    const unlimited = chainOf([ultra]);
    for (let i = 0; i < 500; i++) await unlimited.chain.send({ message: message() });
    expect(unlimited.sleeps).toEqual([]);
    expect(ultra.calls).toHaveLength(500);

    const limited = chainOf([fonnte], { rateLimits: { fonnte: { perSecond: 2 } } });
    for (let i = 0; i < 3; i++) await limited.chain.send({ message: message() });
    expect(limited.sleeps).toEqual([500]);
  });

  it('meta-cloud: a second message to the same number within 6 s skips Meta; another number does not', async () => {
    const meta = scripted('meta-cloud', (_m, i) => accepted(`wamid.${i}`));
    const green = scripted('green-api', accepted('green'));
    const { chain, advance } = chainOf([meta, green]);
    const input = { message: message(), lastInboundAt: recentlyWrote };

    expect((await chain.send(input)).result).toMatchObject({ provider: 'meta-cloud' });
    advance(2_000);
    const second = await chain.send(input);

    expect(meta.calls).toHaveLength(1);
    expect(second.attempts[0]).toMatchObject({ provider: 'meta-cloud', outcome: 'skipped', code: 'pair_rate_limited', retryAfterMs: 4_000 });
    expect(second.result).toMatchObject({ kind: 'accepted', provider: 'green-api' });

    expect((await chain.send({ ...input, message: message({ to: '+966598765432' }) })).result).toMatchObject({ provider: 'meta-cloud' });
    advance(4_000);
    expect((await chain.send(input)).result).toMatchObject({ provider: 'meta-cloud' });
    expect(meta.calls).toHaveLength(3);
  });

  it('meta-cloud: waits out a short remaining pair interval instead of skipping', async () => {
    const meta = scripted('meta-cloud', accepted('wamid'));
    const { chain, advance, sleeps } = chainOf([meta]);
    await chain.send({ message: message(), lastInboundAt: recentlyWrote });
    advance(5_500);
    const { result } = await chain.send({ message: message(), lastInboundAt: recentlyWrote });
    expect(sleeps).toEqual([500]);
    expect(result).toMatchObject({ kind: 'accepted', provider: 'meta-cloud' });
  });

  it('an open breaker is checked before the rate limit: the provider is skipped, not waited for', async () => {
    const green = scripted('green-api', transient('HTTP 503'));
    const ultra = scripted('ultramsg', accepted('u'));
    const { chain } = chainOf([green, ultra], { maxWaitMs: 0, breaker: { volumeThreshold: 1 }, rateLimits: { 'green-api': { perSecond: 1, burst: 1 } } });
    await chain.send({ message: message() });
    const { attempts } = await chain.send({ message: message() });
    expect(attempts[0]).toMatchObject({ code: 'circuit_open' });
  });
});

describe("Meta's 24-hour window", () => {
  it('outside 24 h without a template: Meta is not called; the next provider sends the text', async () => {
    const meta = scripted('meta-cloud', accepted('wamid'));
    const green = scripted('green-api', accepted('green'));
    const { chain } = chainOf([meta, green]);

    const { result, attempts } = await chain.send({ message: message(), lastInboundAt: new Date(T0 - 25 * HOUR) });

    expect(meta.calls).toHaveLength(0);
    expect(attempts[0]).toMatchObject({ provider: 'meta-cloud', outcome: 'skipped', code: 'outside_24h_window' });
    expect(result).toMatchObject({ kind: 'accepted', provider: 'green-api' });
  });

  it('Meta alone, outside the window or never written → permanent outside_24h_window, Meta not called', async () => {
    const meta = scripted('meta-cloud', accepted('wamid'));
    const { chain } = chainOf([meta]);

    for (const lastInboundAt of [new Date(T0 - 24 * HOUR), null, undefined]) {
      const { result } = await chain.send({ message: message(), lastInboundAt });
      expect(result).toMatchObject({ kind: 'permanent', code: 'outside_24h_window' });
      expect(result.kind === 'permanent' && result.reason).toMatch(/template/);
    }
    expect(meta.calls).toHaveLength(0);
  });

  it('outside the window with a template: Meta is called with the template', async () => {
    const meta = scripted('meta-cloud', accepted('wamid'));
    const { chain } = chainOf([meta]);

    const { result } = await chain.send({ message: message({ template }), lastInboundAt: null });

    expect(result).toMatchObject({ kind: 'accepted', provider: 'meta-cloud' });
    expect(meta.calls[0]?.template).toEqual(template);
  });

  it('inside the window: Meta is called with the text', async () => {
    const meta = scripted('meta-cloud', accepted('wamid'));
    const { chain } = chainOf([meta]);

    await chain.send({ message: message(), lastInboundAt: new Date(T0 - 23 * HOUR) });

    expect(meta.calls).toHaveLength(1);
    expect(meta.calls[0]?.text).toBe(message().text);
    expect(meta.calls[0]?.template).toBeUndefined();
  });

  it('Meta answering 131047 → linked-device providers may still send; alone, the verdict is permanent 131047', async () => {
    const refusal = permanent('(#131047) Re-engagement message', '131047');
    const meta = scripted('meta-cloud', refusal);
    const green = scripted('green-api', accepted('green'));
    const both = chainOf([meta, green]);
    expect((await both.chain.send({ message: message(), lastInboundAt: recentlyWrote })).result).toMatchObject({ kind: 'accepted', provider: 'green-api' });

    const alone = chainOf([scripted('meta-cloud', refusal)]);
    const { result } = await alone.chain.send({ message: message(), lastInboundAt: recentlyWrote });
    expect(result).toEqual({ kind: 'permanent', code: '131047', reason: '(#131047) Re-engagement message', provider: 'meta-cloud' });
  });

  it('window skip and other providers transient → permanent, so the caller drafts it', async () => {
    const meta = scripted('meta-cloud', accepted('wamid'));
    const green = scripted('green-api', transient('HTTP 503'));
    const { chain } = chainOf([green, meta]);
    const { result } = await chain.send({ message: message(), lastInboundAt: null });
    expect(result).toMatchObject({ kind: 'permanent', code: 'outside_24h_window' });
    expect(green.calls).toHaveLength(1);
  });

  it('template and text: Meta gets the template; linked-device providers get the text only', async () => {
    const meta = scripted('meta-cloud', transient('HTTP 500'));
    const green = scripted('green-api', accepted('green'));
    const { chain } = chainOf([meta, green]);

    await chain.send({ message: message({ template }), lastInboundAt: null });

    expect(meta.calls[0]?.template).toEqual(template);
    expect(green.calls[0]?.template).toBeUndefined();
    expect(green.calls[0]?.text).toBe(message().text);
  });

  it('a template without text is skipped by linked-device providers; nobody able to send it → permanent no_text', async () => {
    const green = scripted('green-api', accepted('green'));
    const { chain } = chainOf([green]);
    const { result, attempts } = await chain.send({ message: message({ template, text: '' }) });
    expect(green.calls).toHaveLength(0);
    expect(attempts[0]).toMatchObject({ outcome: 'skipped', code: 'no_text' });
    expect(result).toMatchObject({ kind: 'permanent', code: 'no_text' });
  });
});

describe('onAttempt', () => {
  it('reports started before the provider is called, then the outcome; skips report only the outcome', async () => {
    const events: Array<{ event: AttemptEvent; callsSoFar: number }> = [];
    const green = scripted('green-api', transient('HTTP 503'));
    const meta = scripted('meta-cloud', accepted('wamid'));
    const ultra = scripted('ultramsg', accepted('ultra'));
    const { chain } = chainOf([meta, green, ultra]);

    const { attempts } = await chain.send({
      message: message(),
      lastInboundAt: null,
      onAttempt: async (event) => {
        events.push({ event, callsSoFar: green.calls.length + ultra.calls.length + meta.calls.length });
      },
    });

    expect(events.map(({ event, callsSoFar }) => [event.provider, event.outcome, callsSoFar])).toEqual([
      ['meta-cloud', 'skipped', 0],
      ['green-api', 'started', 0],
      ['green-api', 'transient', 1],
      ['ultramsg', 'started', 1],
      ['ultramsg', 'accepted', 2],
    ]);
    // The returned list is the outcomes only, the same objects the hook saw.
    expect(attempts).toEqual(events.map(({ event }) => event).filter((event) => event.outcome !== 'started'));
    expect(attempts.every((a) => a.startedAt instanceof Date && a.latencyMs >= 0)).toBe(true);
  });

  it('a started hook that throws prevents the provider call and stops the chain', async () => {
    const green = scripted('green-api', accepted('green'));
    const ultra = scripted('ultramsg', accepted('ultra'));
    const { chain } = chainOf([green, ultra]);

    await expect(
      chain.send({
        message: message(),
        onAttempt: (event) => {
          if (event.outcome === 'started') throw new Error('could not write the attempt row');
        },
      }),
    ).rejects.toThrow('could not write the attempt row');

    expect(green.calls).toHaveLength(0);
    expect(ultra.calls).toHaveLength(0);
  });

  it('measures latency on the injected clock', async () => {
    let at = T0;
    const slow: WhatsAppProvider = {
      name: 'fonnte',
      async send() {
        at += 250;
        return accepted('f');
      },
    };
    const chain = createProviderChain({ providers: [slow], now: () => at });
    chains.push(chain);
    const { attempts } = await chain.send({ message: message() });
    expect(attempts[0]).toMatchObject({ latencyMs: 250, startedAt: new Date(T0) });
  });
});
