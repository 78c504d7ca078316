import { describe, expect, it } from 'vitest';
import { findInputIssue, MAX_INPUT_DEPTH, MAX_INPUT_NODES, printableKey, textProblem } from './json-input.ts';

/** `depth` nested arrays, built without recursion. */
function nestedArrays(depth: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}

describe('findInputIssue', () => {
  it('accepts ordinary input, emoji and Arabic included', () => {
    expect(findInputIssue({ name: 'أبو خالد 😀', tags: ['a', 1, null, true], nested: { a: [{ b: 'c' }] } })).toBeUndefined();
    expect(findInputIssue('text')).toBeUndefined();
    expect(findInputIssue(undefined)).toBeUndefined();
  });

  it('names the first bad string or key, in document order', () => {
    expect(findInputIssue({ a: 'ok', b: ['x', 'y\u0000'], c: '\u0000' })).toEqual({ path: ['b', 1], message: 'must not contain U+0000 (NUL)', kind: 'text' });
    expect(findInputIssue({ a: { 'k\ud800': 1 } })).toMatchObject({ path: ['a', 'k\\ud800'], kind: 'text' });
    expect(findInputIssue(['\udc00'])).toMatchObject({ path: [0], message: expect.stringContaining('lone UTF-16 surrogate') });
  });

  it('refuses numbers past a double (JSON 1e400 reads as Infinity), naming them; 1e308 and ±2^53 pass', () => {
    expect(findInputIssue(JSON.parse('{"a":[1,1e400]}'))).toEqual({ path: ['a', 1], message: 'must be a finite number (it is beyond ±1.8e308)', kind: 'text' });
    expect(findInputIssue(JSON.parse('{"b":-1e400}'))).toMatchObject({ path: ['b'], kind: 'text' });
    expect(findInputIssue({ a: 1e308, b: -(2 ** 53), c: 2 ** 53 })).toBeUndefined();
  });

  it('caps depth at 64 levels and the count at 10,000 values, exactly', () => {
    expect(findInputIssue(nestedArrays(MAX_INPUT_DEPTH))).toBeUndefined();
    expect(findInputIssue(nestedArrays(MAX_INPUT_DEPTH + 1))).toMatchObject({ kind: 'size', message: 'nests deeper than 64 levels' });
    expect(findInputIssue(Array.from({ length: MAX_INPUT_NODES - 1 }, () => 0))).toBeUndefined();
    expect(findInputIssue(Array.from({ length: MAX_INPUT_NODES }, () => 0))).toMatchObject({ kind: 'size', message: 'holds more than 10000 values' });
  });

  it('walks input nested far past any stack without overflowing', () => {
    expect(findInputIssue(nestedArrays(200_000))).toMatchObject({ kind: 'size' });
    expect(findInputIssue(JSON.parse(`${'['.repeat(30_000)}${']'.repeat(30_000)}`))).toMatchObject({ kind: 'size' });
  });
});

describe('textProblem and printableKey', () => {
  it('tell NUL from a lone surrogate and keep well-formed pairs', () => {
    expect(textProblem('a\u0000')).toContain('U+0000');
    expect(textProblem('\ud83d')).toContain('surrogate');
    expect(textProblem('\ud83d\ude00')).toBeUndefined();
    expect(printableKey('a\u0000b\ud800\ud83d\ude00\udc00')).toBe('a\\u0000b\\ud800\ud83d\ude00\\udc00');
  });
});
