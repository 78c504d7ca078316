import type { MiddlewareHandler } from 'hono';
import { AppError } from '../server/app-error.ts';
import type { AppEnv } from '../server/context.ts';
import { requestFingerprint } from './fingerprint.ts';
import { claimIdempotencyKey, recordIdempotentResponse, releaseIdempotencyKey } from './idempotency.store.ts';

const MUTATING = new Set(['POST', 'PUT', 'PATCH']);
const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;
const KEPT_HEADERS = ['content-type', 'location'];

/**
 * `Idempotency-Key` on POST/PUT/PATCH, inside the tenant transaction (so keys are per
 * tenant, and the stored response commits atomically with the work it describes):
 * - same key, same request → the stored status and body, `Idempotent-Replayed: true`;
 * - same key, different request → 422;
 * - same key while the first is still running → waits for it (lock_timeout bounds the
 *   wait), then replays; if the wait times out → 409.
 * Failed requests roll back with their transaction and keep no key: a retry runs again.
 */
export function idempotency(options: { ttlHours: number }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (key === undefined || !MUTATING.has(c.req.method)) return next();
    if (!KEY_FORMAT.test(key)) {
      throw new AppError('validation_failed', 'Idempotency-Key must be 1–255 visible ASCII characters', {
        errors: [{ field: 'header.idempotency-key', message: 'must be 1–255 visible ASCII characters' }],
      });
    }
    const fingerprint = requestFingerprint(c.req.method, c.req.path, await c.req.text());
    let claim;
    try {
      claim = await claimIdempotencyKey({ tx: c.var.tx, key, fingerprint, method: c.req.method, path: c.req.path, ttlHours: options.ttlHours });
    } catch (error) {
      if ((error as { code?: string }).code === '55P03' || (error as { cause?: { code?: string } }).cause?.code === '55P03') {
        throw new AppError('idempotency_key_in_progress', 'A request with this Idempotency-Key is still being processed; retry shortly');
      }
      throw error;
    }
    switch (claim.kind) {
      case 'mismatch':
        throw new AppError('idempotency_key_reused', 'This Idempotency-Key was used for a different request (method, path or body differ)');
      case 'in_progress':
        throw new AppError('idempotency_key_in_progress', 'A request with this Idempotency-Key is still being processed; retry shortly');
      case 'replay':
        return new Response(claim.response.body, {
          status: claim.response.status,
          headers: { ...claim.response.headers, 'idempotent-replayed': 'true' },
        });
      case 'claimed':
        break;
    }
    await next();
    if (c.error) return;
    if (c.res.status >= 400) {
      // Usually the transaction rolls back and takes the claim with it. A refusal that
      // commits anyway (a gateway decision) must not leave the key claimed without a response.
      await releaseIdempotencyKey({ tx: c.var.tx, key });
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of KEPT_HEADERS) {
      const value = c.res.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    await recordIdempotentResponse({ tx: c.var.tx, key, response: { status: c.res.status, body: await c.res.clone().text(), headers } });
  };
}
