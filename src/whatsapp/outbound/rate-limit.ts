/**
 * In-process rate limiters for outbound WhatsApp sends (issue: per-provider limits).
 *
 * Both take an injectable clock so tests advance time by hand instead of sleeping. Both are
 * per process: with several worker processes sharing one provider instance, each process gets
 * its own budget. That is acceptable because the provider still answers 429 (a transient
 * result) when the sum is too high; these limiters only keep one process from causing that.
 */

/** Outcome of taking from a limiter: either allowed now, or how long until it would be. */
export type TakeResult = { ok: true } | { ok: false; retryAfterMs: number };

export interface TokenBucketOptions {
  /** Most tokens the bucket holds: the burst allowed after a quiet period. */
  capacity: number;
  /** Tokens added per second: the sustained rate. */
  refillPerSecond: number;
  /** Milliseconds since the epoch; injectable for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * Floating-point slack: 20 ms at 50/s refills 0.9999999999 tokens on some paths, and a caller
 * that slept exactly `retryAfterMs` must then get its token rather than another 1 ms wait.
 */
const EPSILON = 1e-9;

/**
 * A token bucket: starts full, refills continuously, one token per send.
 *
 * @example
 * const bucket = new TokenBucket({ capacity: 50, refillPerSecond: 50 }); // Green API: 50/s
 * const taken = bucket.take();
 * if (!taken.ok) await sleep(taken.retryAfterMs);
 */
export class TokenBucket {
  readonly capacity: number;
  readonly refillPerSecond: number;
  private readonly now: () => number;
  private tokens: number;
  private refilledAt: number;

  constructor(options: TokenBucketOptions) {
    if (!(options.capacity >= 1)) throw new RangeError(`capacity must be at least 1, got ${options.capacity}`);
    if (!(options.refillPerSecond > 0)) throw new RangeError(`refillPerSecond must be positive, got ${options.refillPerSecond}`);
    this.capacity = options.capacity;
    this.refillPerSecond = options.refillPerSecond;
    this.now = options.now ?? Date.now;
    this.tokens = options.capacity;
    this.refilledAt = this.now();
  }

  /**
   * Takes one token if there is one; otherwise says how long until there will be.
   *
   * @example
   * const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1 });
   * bucket.take(); // { ok: true }
   * bucket.take(); // { ok: false, retryAfterMs: 1000 }
   */
  take(): TakeResult {
    const waitMs = this.peek();
    if (waitMs > 0) return { ok: false, retryAfterMs: waitMs };
    this.tokens -= 1;
    return { ok: true };
  }

  /**
   * Milliseconds until a token is available (0 = now), without taking one. Checking two
   * limiters with `peek` and then taking from both, with no `await` between, takes from both
   * or from neither: a send refused by the second must not spend the first one's budget.
   *
   * @example
   * if (bucket.peek() === 0 && pairs.peek(to) === 0) { bucket.take(); pairs.take(to); }
   */
  peek(): number {
    this.refill();
    if (this.tokens >= 1 - EPSILON) return 0;
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.refillPerSecond));
  }

  private refill(): void {
    const at = this.now();
    // A clock that steps backwards (an injected one, or NTP) adds nothing rather than draining.
    const elapsedMs = Math.max(0, at - this.refilledAt);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs * this.refillPerSecond) / 1000);
    this.refilledAt = at;
  }
}

export interface PairLimiterOptions {
  /** Least time between two sends to the same key, in milliseconds. */
  intervalMs: number;
  /** Milliseconds since the epoch; injectable for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * At most one send per key per interval: Meta's pair rate limit (about one message every 6 s to
 * the same recipient, error 131056).
 *
 * Memory is bounded by the number of keys used within the last interval: keys are kept in the
 * order they were last used, and every call first drops the ones whose interval has passed
 * (they can no longer refuse anything). A long-running worker sending to many customers would
 * otherwise keep every number it ever messaged.
 *
 * @example
 * const pairs = new PairLimiter({ intervalMs: 6_000 });
 * pairs.take('+966512345678'); // { ok: true }
 * pairs.take('+966512345678'); // { ok: false, retryAfterMs: 6000 }
 */
export class PairLimiter {
  readonly intervalMs: number;
  private readonly now: () => number;
  /** Key → time of its last send. Map iteration order = insertion order = oldest first. */
  private readonly lastSentAt = new Map<string, number>();

  constructor(options: PairLimiterOptions) {
    if (!(options.intervalMs > 0)) throw new RangeError(`intervalMs must be positive, got ${options.intervalMs}`);
    this.intervalMs = options.intervalMs;
    this.now = options.now ?? Date.now;
  }

  /**
   * Records a send to `key` if its interval has passed; otherwise says how long until it will.
   *
   * @example
   * const taken = pairs.take(message.to);
   * if (!taken.ok) return { kind: 'transient', reason: 'pair rate limited', retryAfterMs: taken.retryAfterMs };
   */
  take(key: string): TakeResult {
    const waitMs = this.peek(key);
    if (waitMs > 0) return { ok: false, retryAfterMs: waitMs };
    // Delete first so the re-insert moves the key to the end: the map stays ordered by time.
    this.lastSentAt.delete(key);
    this.lastSentAt.set(key, this.now());
    return { ok: true };
  }

  /**
   * Milliseconds until `key` may be sent to (0 = now), without recording a send.
   *
   * @example
   * pairs.peek('+966512345678'); // 0 when nothing was sent to it in the last interval
   */
  peek(key: string): number {
    const at = this.now();
    this.evict(at);
    const last = this.lastSentAt.get(key);
    if (last === undefined) return 0;
    return Math.max(0, last + this.intervalMs - at);
  }

  /** Keys currently remembered (tests use it to check that memory stays bounded). */
  get size(): number {
    return this.lastSentAt.size;
  }

  private evict(at: number): void {
    for (const [key, sentAt] of this.lastSentAt) {
      if (sentAt + this.intervalMs > at) break; // everything after this one is newer
      this.lastSentAt.delete(key);
    }
  }
}
