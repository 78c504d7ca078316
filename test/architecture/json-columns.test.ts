import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceFiles, SRC } from './layers.ts';

/**
 * A jsonb column is read through a zod schema (src/db/json-column.ts, a flow's `input`, a
 * schema's own parse), never cast: a cast believes whatever an older version, a hand edit or a
 * bug left in the row. A cast that truly cannot be a parse says why on the line above, starting
 * `// json-column:`.
 */
/** The property names of every jsonb column in the drizzle schema. */
export function jsonbColumns(schemaText: string): string[] {
  return [...new Set([...schemaText.matchAll(/^\s*(\w+): jsonb\(/gm)].map((m) => m[1]!))].sort();
}

/** Lines that cast a jsonb column (`row.payload as …`) with no `// json-column:` reason above. */
export function unparsedCasts(text: string, columns: readonly string[]): number[] {
  const cast = new RegExp(`\\.(?:${columns.join('|')})\\s+as\\s+(?!const\\b)`);
  const lines = text.split('\n');
  const found: number[] = [];
  lines.forEach((line, index) => {
    if (!cast.test(line)) return;
    let above = index - 1;
    while (above >= 0 && /^\s*\/\//.test(lines[above]!) && !/\/\/ json-column:/.test(lines[above]!)) above--;
    if (above < 0 || !/\/\/ json-column:/.test(lines[above]!)) found.push(index + 1);
  });
  return found;
}

describe('jsonb columns are parsed, not cast', () => {
  const columns = jsonbColumns(readFileSync(path.join(SRC, 'db/schema.ts'), 'utf8'));

  it('finds the jsonb columns and a cast of one (so the check below can fail)', () => {
    expect(columns).toEqual(expect.arrayContaining(['data', 'payload', 'conditions', 'input', 'state', 'event', 'publicJwk']));
    expect(unparsedCasts('const x = row.payload as Record<string, unknown>;', columns)).toEqual([1]);
    expect(unparsedCasts('// json-column: stored by this very step\nconst x = row.result as T;', columns)).toEqual([]);
    expect(unparsedCasts('const x = readJsonColumn(ZJsonObject, row.payload, "p");', columns)).toEqual([]);
  });

  it('no file in src/ casts a jsonb column without saying why', () => {
    const offenders = sourceFiles(SRC).flatMap((file) => unparsedCasts(readFileSync(file, 'utf8'), columns).map((line) => `${path.relative(SRC, file)}:${line}`));
    expect(offenders).toEqual([]);
  });
});
