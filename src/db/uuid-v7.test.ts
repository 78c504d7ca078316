import { describe, expect, it } from 'vitest';
import { uuidv7 } from './uuid-v7.ts';

describe('uuidv7', () => {
  it('has the RFC 9562 version and variant bits', () => {
    expect(uuidv7()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('sorts in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('encodes the timestamp in the first 48 bits', () => {
    // Later than any id made so far in this process (the generator never goes backwards).
    const at = Date.now() + 60_000;
    expect(Number.parseInt(uuidv7(at).replaceAll('-', '').slice(0, 12), 16)).toBe(at);
  });
});
