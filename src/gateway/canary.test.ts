import { describe, expect, it } from 'vitest';
import { backoffMs } from '../flows/flow-definition.ts';
import { stableBucket } from './canary.ts';

describe('stableBucket', () => {
  it('is stable and spreads tenants over 0–99', () => {
    const id = '01a1ff9e-b053-76af-9af4-54c33d322e5e';
    expect(stableBucket(id, 'policy')).toBe(stableBucket(id, 'policy'));
    const buckets = new Set(Array.from({ length: 500 }, (_, i) => stableBucket(`tenant-${i}`, 'policy')));
    expect(buckets.size).toBeGreaterThan(90);
    for (const b of buckets) expect(b >= 0 && b < 100).toBe(true);
  });
});

describe('backoffMs', () => {
  const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  it('grows exponentially, with jitter in [0.5, 1.5), capped', () => {
    expect(backoffMs(policy, 1, () => 0)).toBe(50);
    expect(backoffMs(policy, 1, () => 0.999)).toBe(150);
    expect(backoffMs(policy, 3, () => 0.5)).toBe(400);
    expect(backoffMs(policy, 10, () => 0.5)).toBe(1000);
  });
});
