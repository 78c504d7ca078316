import { describe, expect, it } from 'vitest';
import { requestFingerprint } from './fingerprint.ts';

describe('requestFingerprint', () => {
  it('ignores key order and whitespace (RFC 8785 canonical JSON)', () => {
    expect(requestFingerprint('POST', '/a', '{"b":1,"a":[1,2]}')).toBe(requestFingerprint('post', '/a', '{ "a": [1, 2],\n "b": 1.0 }'));
  });

  it('differs by method, path and body', () => {
    const base = requestFingerprint('POST', '/a', '{"a":1}');
    expect(requestFingerprint('PUT', '/a', '{"a":1}')).not.toBe(base);
    expect(requestFingerprint('POST', '/b', '{"a":1}')).not.toBe(base);
    expect(requestFingerprint('POST', '/a', '{"a":2}')).not.toBe(base);
  });

  it('hashes a non-JSON body as sent', () => {
    expect(requestFingerprint('POST', '/a', 'not json')).toMatch(/^[0-9a-f]{64}$/);
  });
});
