/**
 * What every request input must satisfy beyond its schema, because the layers under the
 * schema cannot take it: PostgreSQL refuses U+0000 in text (22021) and jsonb (22P05); RFC 8785
 * canonicalisation (payload hashes, idempotency fingerprints) refuses lone UTF-16 surrogates;
 * recursive code (canonicalize, JSON.stringify, jsonb parsing) overflows its stack on JSON
 * nested a few thousand levels deep; JSON.parse reads 1e400 as Infinity, which canonicalisation
 * refuses and JSON.stringify writes as null. Free-form members (`z.unknown()`, gateway payloads, flow
 * signals) pass their schemas untouched, so the check walks the validated value itself.
 */

/** A JSON body nests at most this many containers (the body itself is level 1). */
export const MAX_INPUT_DEPTH = 64;
/** A JSON body holds at most this many values (objects, arrays, scalars, the body included). */
export const MAX_INPUT_NODES = 10_000;

export interface InputLimits {
  maxDepth: number;
  maxNodes: number;
}

export interface InputIssue {
  /** Where: object keys and array indexes from the root. */
  path: (string | number)[];
  message: string;
  /** `text`: a bad string, key or number, named exactly; `size`: a cap crossed somewhere below `path`. */
  kind: 'text' | 'size';
}

/** Why a string (or object key) is refused, or undefined when it is fine. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain U+0000 (NUL)';
  if (!text.isWellFormed()) return 'must be well-formed Unicode (it holds a lone UTF-16 surrogate)';
  return undefined;
}

/**
 * A key as it can be shown in a field name: U+0000 and lone surrogates written as `\uXXXX`, so
 * the problem body names the key without carrying the character it refuses.
 *
 * @example
 * printableKey('a\u0000b') // 'a\\u0000b'
 */
export function printableKey(key: string): string {
  // eslint-disable-next-line no-control-regex -- finding U+0000 is this function's purpose
  return key.replace(/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The first thing in `root` (document order) that breaks the rules above, or undefined.
 * Iterative, so input nested far deeper than the cap cannot overflow the stack here either;
 * it stops at the first issue, so it visits at most `maxNodes + 1` values.
 *
 * @example
 * findInputIssue({ note: 'a\u0000' }) // { path: ['note'], message: 'must not contain U+0000 (NUL)', kind: 'text' }
 */
export function findInputIssue(root: unknown, limits: InputLimits = { maxDepth: MAX_INPUT_DEPTH, maxNodes: MAX_INPUT_NODES }): InputIssue | undefined {
  const pending: Array<{ value: unknown; path: (string | number)[]; depth: number }> = [{ value: root, path: [], depth: 0 }];
  let nodes = 0;
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, path, depth } = next;
    nodes += 1;
    if (nodes > limits.maxNodes) return { path, message: `holds more than ${limits.maxNodes} values`, kind: 'size' };
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem) return { path, message: problem, kind: 'text' };
      continue;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return { path, message: 'must be a finite number (it is beyond ±1.8e308)', kind: 'text' };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth + 1 > limits.maxDepth) return { path, message: `nests deeper than ${limits.maxDepth} levels`, kind: 'size' };
    const children: Array<{ value: unknown; path: (string | number)[]; depth: number }> = [];
    if (Array.isArray(value)) {
      value.forEach((item: unknown, index) => children.push({ value: item, path: [...path, index], depth: depth + 1 }));
    } else {
      for (const [key, item] of Object.entries(value)) {
        const problem = textProblem(key);
        if (problem) return { path: [...path, printableKey(key)], message: `key ${problem}`, kind: 'text' };
        children.push({ value: item, path: [...path, key], depth: depth + 1 });
      }
    }
    // Reversed onto the stack, so the first child is looked at first.
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i] as (typeof children)[number]);
  }
  return undefined;
}
