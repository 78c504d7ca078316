import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { translatePgError } from './sqlstate.ts';
import { APP_ERRORS, AppError, type AppErrorCode, type FieldError } from './app-error.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
/** Retry-After of a 503: long enough for a PostgreSQL restart or failover to finish. */
export const RETRY_AFTER_SECONDS = 5;

/** RFC 9457 problem details, plus our stable `code` and the request's correlation id. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: AppErrorCode;
  correlation_id: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export function problemType(code: AppErrorCode): string {
  return `urn:dealix:problem:${code}`;
}

const HTTP_STATUS_CODES: Partial<Record<number, AppErrorCode>> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'validation_failed',
  431: 'request_header_fields_too_large',
  503: 'service_unavailable',
};

/**
 * Turns anything thrown into an AppError. Known shapes keep their meaning; anything else
 * becomes `internal`, whose detail is generic: the cause goes to the log, never the client.
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof HTTPException) {
    const code = HTTP_STATUS_CODES[error.status] ?? (error.status >= 500 ? 'internal' : 'bad_request');
    return new AppError(code, code === 'internal' ? 'An unexpected error occurred' : error.message || APP_ERRORS[code].title, { cause: error });
  }
  return translatePgError(error) ?? new AppError('internal', 'An unexpected error occurred; the correlation id identifies it in our logs', { cause: error });
}

/** Members the problem itself defines: an extension member never replaces one. */
const STANDARD_MEMBERS: ReadonlySet<string> = new Set(['type', 'title', 'status', 'detail', 'code', 'correlation_id', 'instance', 'errors']);

/**
 * The problem document. Extension members named like a standard member (`status`, `type`,
 * `code`…) are dropped, so an AppError's `extra` can never change what the problem says it is.
 */
export function problemBody(error: AppError, correlationId: string, instance?: string): ProblemBody {
  const spec = APP_ERRORS[error.code];
  const extensions = Object.fromEntries(Object.entries(error.extra ?? {}).filter(([name]) => !STANDARD_MEMBERS.has(name)));
  return {
    ...extensions,
    type: problemType(error.code),
    title: spec.title,
    status: spec.status,
    detail: error.detail,
    code: error.code,
    correlation_id: correlationId,
    ...(instance ? { instance } : {}),
    ...(error.errors ? { errors: [...error.errors] } : {}),
  };
}

export function problemResponse(c: Context, error: AppError): Response {
  const correlationId = (c.get('correlationId' as never) as string | undefined) ?? '';
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE };
  if (error.code === 'unauthenticated') headers['www-authenticate'] = 'Bearer realm="dealix"';
  // Every 503 is transient (a database restarting, a pool drained): say when to come back.
  if (error.code === 'service_unavailable') headers['retry-after'] = String(RETRY_AFTER_SECONDS);
  return new Response(JSON.stringify(problemBody(error, correlationId, c.req.path)), { status: error.status, headers });
}

/**
 * A field as problems name it: its path, prefixed by where it came from (`query.limit`,
 * `path.id`; body fields bare), or the part itself (`body`, `query`) for an empty path.
 */
export function fieldName(target: string, path: readonly PropertyKey[]): string {
  const prefix = target === 'json' || target === 'form' ? '' : `${target === 'param' ? 'path' : target}.`;
  const base = path.map(String).join('.');
  return `${prefix}${base}` || (prefix ? prefix.slice(0, -1) : 'body');
}

/** Zod issues → one FieldError per bad field, named by its path (query params prefixed). */
export function validationError(error: ZodError, target: string): AppError {
  const errors = error.issues.map((issue) => {
    // An unknown key is an error about that key, not about its parent object.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    return keys.map((key) => ({ field: fieldName(target, key === undefined ? issue.path : [...issue.path, key]), message: issue.message }));
  });
  return fieldsError(errors.flat());
}

/** One 422 naming each field. */
export function fieldsError(errors: FieldError[]): AppError {
  return new AppError('validation_failed', `Invalid ${errors.map((e) => e.field).join(', ')}`, { errors });
}
