import { describe, expect, it } from 'vitest';
import { PairLimiter, TokenBucket } from './rate-limit.ts';

function manualClock(start = Date.parse('2026-11-22T06:00:00Z')) {
  let at = start;
  return { now: () => at, advance: (ms: number) => void (at += ms) };
}

describe('TokenBucket', () => {
  it('allows a burst of `capacity`, then says how long until the next token', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, now: clock.now });
    expect(bucket.take()).toEqual({ ok: true });
    expect(bucket.take()).toEqual({ ok: true });
    expect(bucket.take()).toEqual({ ok: false, retryAfterMs: 1000 });
    clock.advance(400);
    expect(bucket.take()).toEqual({ ok: false, retryAfterMs: 600 });
    clock.advance(600);
    expect(bucket.take()).toEqual({ ok: true });
  });

  it('Green API: 50 sends within one second, the 51st waits 20 ms', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 50, refillPerSecond: 50, now: clock.now });
    for (let i = 0; i < 50; i++) expect(bucket.take().ok).toBe(true);
    expect(bucket.take()).toEqual({ ok: false, retryAfterMs: 20 });
    // Sleeping exactly the advertised time must be enough (no floating-point 1 ms extra wait).
    clock.advance(20);
    expect(bucket.take()).toEqual({ ok: true });
  });

  it('refills up to capacity only, and a clock that steps back adds nothing', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 10, now: clock.now });
    for (let i = 0; i < 3; i++) bucket.take();
    clock.advance(60 * 60 * 1000);
    for (let i = 0; i < 3; i++) expect(bucket.take().ok).toBe(true);
    expect(bucket.take().ok).toBe(false);
    clock.advance(-10_000);
    expect(bucket.peek()).toBe(100);
  });

  it('peek does not take', () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, now: manualClock().now });
    expect(bucket.peek()).toBe(0);
    expect(bucket.peek()).toBe(0);
    expect(bucket.take().ok).toBe(true);
    expect(bucket.peek()).toBe(1000);
  });

  it('refuses nonsense settings', () => {
    expect(() => new TokenBucket({ capacity: 0, refillPerSecond: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ capacity: 1, refillPerSecond: 0 })).toThrow(RangeError);
    expect(() => new TokenBucket({ capacity: Number.NaN, refillPerSecond: 1 })).toThrow(RangeError);
  });
});

describe('PairLimiter', () => {
  it('one send per key per interval; other keys are independent', () => {
    const clock = manualClock();
    const pairs = new PairLimiter({ intervalMs: 6_000, now: clock.now });
    expect(pairs.take('+966512345678')).toEqual({ ok: true });
    expect(pairs.take('+966512345679')).toEqual({ ok: true });
    clock.advance(2_500);
    expect(pairs.take('+966512345678')).toEqual({ ok: false, retryAfterMs: 3_500 });
    clock.advance(3_500);
    expect(pairs.take('+966512345678')).toEqual({ ok: true });
  });

  it('a refused take does not restart the interval', () => {
    const clock = manualClock();
    const pairs = new PairLimiter({ intervalMs: 6_000, now: clock.now });
    pairs.take('a');
    clock.advance(5_000);
    expect(pairs.take('a').ok).toBe(false);
    clock.advance(1_000);
    expect(pairs.take('a').ok).toBe(true);
  });

  it('forgets keys whose interval has passed, so memory stays bounded', () => {
    const clock = manualClock();
    const pairs = new PairLimiter({ intervalMs: 6_000, now: clock.now });
    for (let i = 0; i < 1_000; i++) {
      pairs.take(`+9665${String(i).padStart(8, '0')}`);
      clock.advance(1);
    }
    expect(pairs.size).toBe(1_000);
    clock.advance(6_000);
    pairs.take('+966500000001');
    expect(pairs.size).toBe(1);
  });

  it('eviction keeps keys still inside their interval, including a re-used old key', () => {
    const clock = manualClock();
    const pairs = new PairLimiter({ intervalMs: 6_000, now: clock.now });
    pairs.take('old');
    clock.advance(3_000);
    pairs.take('new');
    clock.advance(3_000);
    // 'old' has expired and is dropped; 'new' must still refuse.
    expect(pairs.peek('new')).toBe(3_000);
    expect(pairs.size).toBe(1);
    pairs.take('old');
    clock.advance(3_000);
    // Re-inserted at the end: 'new' expires first, 'old' is still remembered.
    expect(pairs.peek('old')).toBe(3_000);
    expect(pairs.size).toBe(1);
  });

  it('refuses a non-positive interval', () => {
    expect(() => new PairLimiter({ intervalMs: 0 })).toThrow(RangeError);
  });
});
