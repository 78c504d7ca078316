import { z } from 'zod';

/** A jsonb column that holds a JSON object (activity data, approval payloads, run state). */
export const ZJsonObject = z.record(z.string(), z.unknown());

/**
 * Reads a jsonb column through its schema. A row that does not fit is a fault in our data, not
 * the caller's input: the error names the column and the fields, and nothing acts on a guess.
 *
 * @example
 * const data = readJsonColumn(ZJsonObject, row.data, 'activities.data');
 */
export function readJsonColumn<T>(schema: z.ZodType<T>, value: unknown, column: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(value)'}: ${issue.message}`).join('; ');
  throw new Error(`${column} holds JSON that does not fit its schema (${fields})`);
}
