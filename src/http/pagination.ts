import { z } from '@hono/zod-openapi';
import { AppError } from './app-error.ts';

/**
 * Keyset pagination over UUIDv7 ids, newest first. The cursor is the last id of the page,
 * opaque (base64url) so clients do not build it themselves.
 */
export const ZPageQuery = {
  limit: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(200, 'must be at most 200')
    .default(50)
    .openapi({ param: { name: 'limit', in: 'query' }, example: 50 }),
  cursor: z.string().optional().openapi({ param: { name: 'cursor', in: 'query' }, description: 'next_cursor from the previous page' }),
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!UUID.test(id)) {
    throw new AppError('validation_failed', 'Invalid query.cursor', { errors: [{ field: 'query.cursor', message: 'is not a cursor this API issued' }] });
  }
  return id;
}

/** Fetch `limit + 1` rows, give back `limit` and the cursor when there is more. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): { data: T[]; next_cursor: string | null } {
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  return { data, next_cursor: rows.length > limit && last ? encodeCursor(last.id) : null };
}

export const ZPageMeta = { next_cursor: z.string().nullable() };
