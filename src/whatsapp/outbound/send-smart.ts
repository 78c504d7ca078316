import CircuitBreaker from 'opossum';
import type { OutboundWhatsApp, ProviderName, SendResult, WhatsAppProvider } from './provider.ts';
import { PairLimiter, TokenBucket } from './rate-limit.ts';

/**
 * Rate limits each provider documents, used unless `rateLimits` overrides them. Ultramsg, Fonnte
 * and the sandbox document no request rate, so they have no bucket (unlimited) by default.
 */
export const DEFAULT_RATE_LIMITS: Readonly<Partial<Record<ProviderName, RateLimit>>> = {
  /** Green API: `sendMessage` is limited to 50 requests/s per instance; more answers 429. */
  'green-api': { perSecond: 50 },
  /** Meta Cloud API: 80 messages/s per business phone number by default (error 130429). */
  'meta-cloud': { perSecond: 80 },
};

/** Least time between two messages to the same recipient, per provider, unless `pairIntervalMs` overrides it. */
export const DEFAULT_PAIR_INTERVAL_MS: Readonly<Partial<Record<ProviderName, number>>> = {
  /** Meta Cloud API: about one message per 6 s to the same user (pair rate limit, error 131056). */
  'meta-cloud': 6_000,
};

/** Circuit breaker settings used unless `breaker` overrides them (opossum option names). */
export const DEFAULT_BREAKER: Readonly<Required<BreakerOptions>> = {
  /** Open when more than this percentage of calls in the rolling window failed transiently. */
  errorThresholdPercentage: 50,
  /** …but only once the window holds at least this many calls: one early timeout must not open it. */
  volumeThreshold: 5,
  /** Milliseconds open before one trial call is let through (half-open). */
  resetTimeout: 30_000,
  /** Milliseconds of history the failure percentage is computed over. */
  rollingCountTimeout: 10_000,
};

/** Wait at most this long for a rate limit before falling through to the next provider. */
export const DEFAULT_MAX_WAIT_MS = 1_000;

/** Meta's customer-service window: free-form text only within 24 h of the customer's last message. */
export const CUSTOMER_SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** The only provider with a 24-hour window and templates (the others are linked-device APIs). */
const WINDOWED_PROVIDER: ProviderName = 'meta-cloud';

/** Meta's error code for free-form text outside the 24-hour window ("re-engagement message"). */
const META_REENGAGEMENT_CODE = '131047';

export interface RateLimit {
  /** Sustained sends per second; `Infinity` = unlimited (no bucket). */
  perSecond: number;
  /** Bucket capacity (burst after a quiet period). Default `perSecond`. */
  burst?: number;
}

export interface BreakerOptions {
  errorThresholdPercentage?: number;
  volumeThreshold?: number;
  resetTimeout?: number;
  rollingCountTimeout?: number;
}

/** What shapes a provider account's breaker and limits (see ProviderChainOptions). */
export type ProviderAccountOptions = Pick<ProviderChainOptions, 'breaker' | 'rateLimits' | 'pairIntervalMs' | 'now'>;

/**
 * What every send through one provider account shares, whichever chain it goes through: the
 * circuit breaker (the account's health), the token bucket (Green API's 50/s is per instance)
 * and the pair limiter (Meta's per-recipient limit is per business number).
 */
export interface ProviderAccount {
  readonly breaker: CircuitBreaker<[WhatsAppProvider, OutboundWhatsApp], SendResult>;
  readonly bucket: TokenBucket | undefined;
  readonly pairs: PairLimiter | undefined;
  /** Stops the breaker's timers; a send still holding the account then skips it as circuit_open. */
  shutdown(): void;
}

export interface ProviderChainOptions {
  /** Providers to try, in order. Names must be unique (`circuitState` is asked by name). */
  providers: readonly WhatsAppProvider[];
  /**
   * The account each provider sends as, asked on every send (so a cache may replace it). Without
   * it each provider gets an account of its own, owned (and shut down) by the chain.
   */
  accountOf?: (provider: WhatsAppProvider) => ProviderAccount;
  /**
   * One breaker per provider. Its clock is opossum's (`Date.now` and real timers), not `now`:
   * tests of half-open use a small `resetTimeout`.
   */
  breaker?: BreakerOptions;
  /** Merged over `DEFAULT_RATE_LIMITS`, per provider. */
  rateLimits?: Partial<Record<ProviderName, RateLimit>>;
  /** Merged over `DEFAULT_PAIR_INTERVAL_MS`, per provider; 0 disables. */
  pairIntervalMs?: Partial<Record<ProviderName, number>>;
  /** Longest total wait for one provider's rate limits before moving on. Default 1000 ms. */
  maxWaitMs?: number;
  /** Milliseconds since the epoch: rate limits, the 24-hour window and attempt timing. */
  now?: () => number;
  /** Waits for a rate limit; tests pass one that advances their clock. */
  sleep?: (ms: number) => Promise<void>;
}

/** What came of one provider in the chain. `skipped` = the provider was not called. */
export type AttemptOutcome = 'accepted' | 'transient' | 'permanent' | 'skipped';

/**
 * One provider's attempt. `code` is the provider's own code, or one of ours for skips:
 * `outside_24h_window`, `circuit_open`, `rate_limited`, `pair_rate_limited`, `no_text`.
 */
export interface SendAttempt {
  provider: ProviderName;
  startedAt: Date;
  latencyMs: number;
  outcome: AttemptOutcome;
  reason?: string;
  code?: string;
  externalId?: string;
  retryAfterMs?: number;
}

/** Reported through `onAttempt` just before a provider is called, so a row exists before the call. */
export interface StartedAttempt {
  provider: ProviderName;
  startedAt: Date;
  outcome: 'started';
}

export type AttemptEvent = StartedAttempt | SendAttempt;

export interface SmartSendInput {
  message: OutboundWhatsApp;
  /** The recipient's last inbound message; `null`/absent = never wrote (Meta: templates only). */
  lastInboundAt?: Date | null;
  /**
   * Called with `started` before each provider call and with the outcome after it (skips get
   * only the outcome). If it throws, the chain stops and the error propagates: a `started` hook
   * that throws means the provider is not called, and no further provider is tried after a
   * failed bookkeeping write, since the chain could no longer prove at-most-once.
   */
  onAttempt?: (attempt: AttemptEvent) => void | Promise<void>;
}

export interface SmartSendOutput {
  /** The chain's verdict; `provider` is the provider that gave it, when one did. */
  result: SendResult & { provider?: ProviderName };
  /** Every provider considered, in order (never `started`). */
  attempts: SendAttempt[];
}

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface ProviderChain {
  /** Provider names in the order they are tried. */
  readonly providers: readonly ProviderName[];
  send(input: SmartSendInput): Promise<SmartSendOutput>;
  circuitState(name: ProviderName): CircuitState;
  /** Stops the breakers' timers (they are unref'd, but shut down anyway so nothing fires later). */
  shutdown(): void;
}

/** Thrown inside the breaker so opossum counts a transient result as a failure; carries the result. */
class TransientSendFailure extends Error {
  override readonly name = 'TransientSendFailure';
  readonly result: Extract<SendResult, { kind: 'transient' }>;
  constructor(result: Extract<SendResult, { kind: 'transient' }>) {
    super(result.reason);
    this.result = result;
  }
}

interface ChainLink {
  provider: WhatsAppProvider;
  /** Set when the chain owns the account (no `accountOf`). */
  own: ProviderAccount | undefined;
}

/**
 * A provider account's breaker and limits, for `accountOf`.
 *
 * @example
 * const account = createProviderAccount('green-api', { breaker: { resetTimeout: 30_000 } });
 */
export function createProviderAccount(name: ProviderName, options: ProviderAccountOptions = {}): ProviderAccount {
  const now = options.now ?? Date.now;
  const limit = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits }[name];
  const pairIntervalMs = { ...DEFAULT_PAIR_INTERVAL_MS, ...options.pairIntervalMs }[name] ?? 0;
  const breaker = createBreaker(name, { ...DEFAULT_BREAKER, ...options.breaker });
  return {
    breaker,
    bucket: limit && Number.isFinite(limit.perSecond) ? new TokenBucket({ capacity: limit.burst ?? limit.perSecond, refillPerSecond: limit.perSecond, now }) : undefined,
    pairs: pairIntervalMs > 0 ? new PairLimiter({ intervalMs: pairIntervalMs, now }) : undefined,
    shutdown: () => breaker.shutdown(),
  };
}

type Acquired = { ok: true } | { ok: false; retryAfterMs: number; code: 'rate_limited' | 'pair_rate_limited' };

/**
 * Builds the fallback chain over WhatsApp providers: per provider a circuit breaker (opossum),
 * a token bucket and, for Meta, a per-recipient pair limit. Create it once per process and
 * reuse it: breakers and buckets only mean something across sends.
 *
 * @example
 * const chain = createProviderChain({ providers: [greenApi, ultramsg, metaCloud] });
 * const { result, attempts } = await chain.send({ message, lastInboundAt, onAttempt: recordAttempt });
 * if (result.kind === 'permanent' && result.code === 'outside_24h_window') await turnIntoDraft(result.reason);
 * chain.shutdown();
 */
export function createProviderChain(options: ProviderChainOptions): ProviderChain {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const accountOptions: ProviderAccountOptions = { ...options, now };

  const seen = new Set<ProviderName>();
  const links: ChainLink[] = options.providers.map((provider) => {
    if (seen.has(provider.name)) throw new Error(`provider ${provider.name} is configured twice`);
    seen.add(provider.name);
    return { provider, own: options.accountOf ? undefined : createProviderAccount(provider.name, accountOptions) };
  });
  const accountOf = (link: ChainLink): ProviderAccount => link.own ?? (options.accountOf as (provider: WhatsAppProvider) => ProviderAccount)(link.provider);

  /**
   * Takes from the provider's bucket and pair limiter, waiting while the total wait stays within
   * `maxWaitMs`. Peek both, then take both with no `await` between, so a refusal by one never
   * spends the other's budget and a concurrent send cannot slip in between. The budget counts
   * time slept rather than a clock deadline, so a `sleep` that does not move `now` cannot spin.
   */
  async function acquire(account: ProviderAccount, to: string): Promise<Acquired> {
    let sleptMs = 0;
    for (;;) {
      const bucketWait = account.bucket?.peek() ?? 0;
      const pairWait = account.pairs?.peek(to) ?? 0;
      if (bucketWait === 0 && pairWait === 0) {
        account.bucket?.take();
        account.pairs?.take(to);
        return { ok: true };
      }
      const waitMs = Math.max(bucketWait, pairWait);
      if (sleptMs + waitMs > maxWaitMs) {
        return { ok: false, retryAfterMs: waitMs, code: pairWait >= bucketWait ? 'pair_rate_limited' : 'rate_limited' };
      }
      await sleep(waitMs);
      sleptMs += waitMs;
    }
  }

  async function callProvider(account: ProviderAccount, provider: WhatsAppProvider, message: OutboundWhatsApp): Promise<SendResult | 'circuit_open'> {
    try {
      return await account.breaker.fire(provider, message);
    } catch (error) {
      if (error instanceof TransientSendFailure) return error.result;
      // Another send took the single half-open trial call, or the breaker opened while we
      // waited for a rate limit: opossum refused without calling the provider.
      if (isOpossumCode(error, 'EOPENBREAKER') || isOpossumCode(error, 'ESHUTDOWN')) return 'circuit_open';
      return { kind: 'transient', reason: `breaker error: ${describeError(error)}`, code: 'provider_exception' };
    }
  }

  async function send(input: SmartSendInput): Promise<SmartSendOutput> {
    const { message } = input;
    const attempts: SendAttempt[] = [];
    if (links.length === 0) {
      return { result: { kind: 'permanent', code: 'no_provider', reason: 'no WhatsApp provider is configured' }, attempts };
    }

    const report = async (attempt: SendAttempt): Promise<void> => {
      attempts.push(attempt);
      await input.onAttempt?.(attempt);
    };
    const skip = (provider: ProviderName, code: string, reason: string, retryAfterMs?: number): Promise<void> =>
      report({
        provider,
        startedAt: new Date(now()),
        latencyMs: 0,
        outcome: 'skipped',
        code,
        reason,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });

    /** Set when Meta could not send because of the 24-hour window: decides the final verdict. */
    let windowBlock: { code: string; reason: string; answeredByMeta: boolean } | undefined;

    for (const link of links) {
      const name = link.provider.name;
      const account = accountOf(link);
      const isWindowed = name === WINDOWED_PROVIDER;

      if (isWindowed && !message.template && !isInsideWindow(input.lastInboundAt ?? null, now())) {
        const reason = input.lastInboundAt
          ? `the customer last wrote ${input.lastInboundAt.toISOString()}, more than 24 h ago; Meta accepts only templates outside the window`
          : 'the customer never wrote; Meta accepts only templates outside the 24-hour window';
        windowBlock = { code: 'outside_24h_window', reason, answeredByMeta: false };
        await skip(name, 'outside_24h_window', reason);
        continue;
      }

      // Linked-device providers send no templates, only text: strip the template so their
      // adapters never see it, and skip them when there is no text to send instead.
      const outgoing: OutboundWhatsApp = isWindowed || !message.template ? message : { ...message, template: undefined };
      if (!isWindowed && outgoing.text.trim() === '') {
        await skip(name, 'no_text', 'the message is a template without text; this provider sends text only');
        continue;
      }

      // Checked before the rate limits so an open breaker neither waits nor spends tokens.
      if (account.breaker.opened) {
        await skip(name, 'circuit_open', 'circuit open');
        continue;
      }

      const acquired = await acquire(account, message.to);
      if (!acquired.ok) {
        const reason = acquired.code === 'pair_rate_limited' ? 'rate limited (same recipient)' : 'rate limited';
        await skip(name, acquired.code, reason, acquired.retryAfterMs);
        continue;
      }

      const startedMs = now();
      const startedAt = new Date(startedMs);
      // The caller's row must exist before the provider is called; if writing it fails, this
      // throws and the provider is never called.
      await input.onAttempt?.({ provider: name, startedAt, outcome: 'started' });
      const answer = await callProvider(account, link.provider, outgoing);
      const latencyMs = Math.max(0, now() - startedMs);

      if (answer === 'circuit_open') {
        await report({ provider: name, startedAt, latencyMs, outcome: 'skipped', code: 'circuit_open', reason: 'circuit open' });
        continue;
      }
      if (answer.kind === 'accepted') {
        await report({ provider: name, startedAt, latencyMs, outcome: 'accepted', externalId: answer.externalId });
        // Accepted is final: the provider may deliver later (its queue), so any other provider
        // could reach the customer a second time.
        return { result: { ...answer, provider: name }, attempts };
      }
      await report({
        provider: name,
        startedAt,
        latencyMs,
        outcome: answer.kind,
        reason: answer.reason,
        ...(answer.code === undefined ? {} : { code: answer.code }),
        ...(answer.kind === 'transient' && answer.retryAfterMs !== undefined ? { retryAfterMs: answer.retryAfterMs } : {}),
      });
      if (answer.kind === 'permanent') {
        if (isWindowed && answer.code === META_REENGAGEMENT_CODE) {
          // Meta refused the text for its window, so it did not accept the message: the
          // linked-device providers have no window and may still send it.
          windowBlock = { code: META_REENGAGEMENT_CODE, reason: answer.reason, answeredByMeta: true };
          continue;
        }
        // Invalid number, not on WhatsApp: every other provider would fail the same way.
        return { result: { ...answer, provider: name }, attempts };
      }
    }

    return { result: verdictWithoutAcceptance(attempts, windowBlock), attempts };
  }

  return {
    providers: links.map((link) => link.provider.name),
    send,
    circuitState(name: ProviderName): CircuitState {
      const link = links.find((candidate) => candidate.provider.name === name);
      if (!link) throw new Error(`provider ${name} is not in this chain`);
      return breakerState(accountOf(link).breaker);
    },
    shutdown(): void {
      // Accounts from `accountOf` belong to whoever gave them.
      for (const link of links) link.own?.shutdown();
    },
  };
}

/**
 * Sends one message through the chain. Same as `chain.send(input)`; reads better at call sites.
 *
 * @example
 * const { result } = await sendWhatsAppSmart(chain, { message, lastInboundAt: contact.lastInboundAt });
 */
export function sendWhatsAppSmart(chain: ProviderChain, input: SmartSendInput): Promise<SmartSendOutput> {
  return chain.send(input);
}

/**
 * The verdict when nobody accepted. A window refusal wins: the message cannot go out as text
 * through Meta until the customer writes, so the caller turns it into a draft that says why.
 * Otherwise every reason was transient (retry later), or — only when every provider was skipped
 * for having no text — the message can never be sent by this chain.
 */
function verdictWithoutAcceptance(
  attempts: readonly SendAttempt[],
  windowBlock: { code: string; reason: string; answeredByMeta: boolean } | undefined,
): SendResult & { provider?: ProviderName } {
  if (windowBlock) {
    return {
      kind: 'permanent',
      code: windowBlock.code,
      reason: windowBlock.reason,
      ...(windowBlock.answeredByMeta ? { provider: WINDOWED_PROVIDER } : {}),
    };
  }
  const retryable = attempts.filter((attempt) => attempt.outcome === 'transient' || (attempt.outcome === 'skipped' && attempt.code !== 'no_text'));
  if (retryable.length === 0) {
    return { kind: 'permanent', code: 'no_text', reason: 'the message is a template without text and no configured provider sends templates' };
  }
  const retryAfters = retryable.flatMap((attempt) => (attempt.retryAfterMs === undefined ? [] : [attempt.retryAfterMs]));
  return {
    kind: 'transient',
    reason: retryable.map((attempt) => `${attempt.provider}: ${attempt.reason ?? attempt.code ?? 'failed'}`).join('; '),
    ...(retryAfters.length > 0 ? { retryAfterMs: Math.min(...retryAfters) } : {}),
  };
}

function isInsideWindow(lastInboundAt: Date | null, nowMs: number): boolean {
  return lastInboundAt !== null && nowMs - lastInboundAt.getTime() < CUSTOMER_SERVICE_WINDOW_MS;
}

/** A breaker's state as the API reports it. */
export function breakerState(breaker: ProviderAccount['breaker']): CircuitState {
  if (breaker.halfOpen) return 'half_open';
  return breaker.opened ? 'open' : 'closed';
}

/**
 * One breaker per provider account; the provider to call is an argument, since chains built for
 * different tenants hold their own adapter objects for the same account. The action turns a transient result into a rejection (so it counts
 * as a failure) and resolves accepted and permanent results (so they count as successes: an
 * invalid number says nothing about the provider's health). No opossum timeout: providers have
 * their own HTTP timeouts, and an abandoned call could still be accepted after we moved on to
 * the next provider — a double send. No fallback and no cache, so an accepted result is never
 * replaced.
 */
function createBreaker(name: ProviderName, options: Required<BreakerOptions>): CircuitBreaker<[WhatsAppProvider, OutboundWhatsApp], SendResult> {
  const action = async (provider: WhatsAppProvider, message: OutboundWhatsApp): Promise<SendResult> => {
    let result: SendResult;
    try {
      result = await provider.send(message);
    } catch (error) {
      // A provider must answer with a SendResult; a throw is a bug or an unmapped network
      // error. It did not say the message was accepted, so the next provider may try.
      result = { kind: 'transient', reason: `provider threw: ${describeError(error)}`, code: 'provider_exception' };
    }
    if (result.kind === 'transient') throw new TransientSendFailure(result);
    return result;
  };
  return new CircuitBreaker(action, {
    name,
    timeout: false,
    errorThresholdPercentage: options.errorThresholdPercentage,
    volumeThreshold: options.volumeThreshold,
    resetTimeout: options.resetTimeout,
    rollingCountTimeout: options.rollingCountTimeout,
    // No periodic stats events: nobody listens, and it is one timer less per provider.
    enableSnapshots: false,
  });
}

function isOpossumCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as Error & { code?: unknown }).code === code;
}

/** A short description for `reason`, with URLs removed: Green API puts its token in the URL path. */
function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/https?:\/\/\S+/g, '[url]').slice(0, 200);
}
