import { describe, expect, it } from 'vitest';
import { toE164 } from './phone.ts';

describe('toE164', () => {
  it.each([
    ['0551234567', '+966551234567'],
    ['055 123 4567', '+966551234567'],
    ['+966 55 123 4567', '+966551234567'],
    ['00966551234567', '+966551234567'],
    ['٠٥٥١٢٣٤٥٦٧', '+966551234567'],
    ['+971 50 123 4567', '+971501234567'],
  ])('%s → %s', (input, expected) => expect(toE164(input)).toBe(expected));

  it.each(['', '12', 'abc', '+966 12', '05512345678901'])('refuses %j', (input) => expect(toE164(input)).toBeUndefined());
});
