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

  it('never throws on JSON the routes refuse, and still tells bodies apart', () => {
    const deep = (n: number) => `{"payload":${'['.repeat(n)}${']'.repeat(n)}}`;
    for (const body of ['{"a":"\\ud800"}', '{"\\udc00":1}', '{"a":"\\u0000"}', deep(10_000), deep(30_000), `[${'0,'.repeat(20_000)}0]`]) {
      expect(requestFingerprint('POST', '/a', body)).toMatch(/^[0-9a-f]{64}$/);
      expect(requestFingerprint('POST', '/a', body)).toBe(requestFingerprint('POST', '/a', body));
    }
    expect(requestFingerprint('POST', '/a', deep(10_000))).not.toBe(requestFingerprint('POST', '/a', deep(10_001)));
  });
});
