import type { Context, MiddlewareHandler, Next } from 'hono';
import { AppError } from '../http/app-error.ts';
import type { AppEnv, PendingIdempotencyKey } from '../http/context.ts';
import { requestFingerprint } from './fingerprint.ts';
import { claimIdempotencyKey, recordIdempotentResponse, releaseIdempotencyKey } from './idempotency.store.ts';

const MUTATING = new Set(['POST', 'PUT', 'PATCH']);
const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;
const KEPT_HEADERS = ['content-type', 'location'];

/**
 * `Idempotency-Key` on POST/PUT/PATCH: this global middleware only checks the header and
 * hands it on; the claim and the replay happen in the route's permission guard
 * ({@link claimForCaller}, called by requirePermission once the caller passed it). So a
 * replay passes the same permission check as the original, and the key belongs to its
 * caller (tenant + subject): another user's same key is another key.
 *
 * A mutating route that took a key and succeeded without reaching a guard is a programming
 * error (the key would be silently ignored): it answers 500 and its transaction rolls back.
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
    const pending: PendingIdempotencyKey = { key, ttlHours: options.ttlHours, claimed: false, claimForCaller };
    c.set('idempotency', pending);
    await next();
    if (!pending.claimed && !c.error && c.res.status < 400) {
      throw new Error(`${c.req.method} ${c.req.path} took an Idempotency-Key but never reached a permission guard that claims it`);
    }
  };
}

/**
 * The claim, inside the tenant transaction (so the stored response commits atomically with
 * the work it describes), keyed by tenant (RLS), subject and key:
 * - same key, same request → the stored status and body, `Idempotent-Replayed: true`;
 * - same key, different request → 422;
 * - same key while the first is still running → waits for it (lock_timeout bounds the
 *   wait), then replays; if the wait times out → 409.
 * Failed requests roll back with their transaction and keep no key: a retry runs again.
 */
export async function claimForCaller(c: Context<AppEnv>, next: Next): Promise<Response | undefined> {
  const pending = c.get('idempotency');
  if (!pending || pending.claimed) {
    await next();
    return undefined;
  }
  pending.claimed = true;
  const tx = c.var.tx;
  const subject = c.var.auth.sub;
  const { key } = pending;
  const fingerprint = requestFingerprint(c.req.method, c.req.path, await c.req.text());
  let claim;
  try {
    claim = await claimIdempotencyKey({ tx, subject, key, fingerprint, method: c.req.method, path: c.req.path, ttlHours: pending.ttlHours });
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
  if (c.error) return undefined;
  if (c.res.status >= 400) {
    // Usually the transaction rolls back and takes the claim with it. A refusal that
    // commits anyway (a gateway decision) must not leave the key claimed without a response.
    await releaseIdempotencyKey({ tx, subject, key });
    return undefined;
  }
  const headers: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = c.res.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  await recordIdempotentResponse({ tx, subject, key, response: { status: c.res.status, body: await c.res.clone().text(), headers } });
  return undefined;
}
