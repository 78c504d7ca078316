import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from './context.ts';
import { findInputIssue } from './json-input.ts';
import { fieldName, fieldsError, validationError } from './problem.ts';

/**
 * Every router validates with the same hook: a failed schema becomes one 422 problem that
 * names each bad field, instead of zod-openapi's default 400 with the raw zod error.
 *
 * A value that passed its schema is then walked whole (body, query, path, headers), free-form
 * members included: U+0000, a lone surrogate, nesting past 64 levels or more than 10,000 values
 * is a 422 too (src/http/json-input.ts says why each). Here, not in each schema, so no route
 * and no `z.unknown()` member can forget it.
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target);
      const issue = findInputIssue(result.data);
      if (!issue) return;
      // A cap is crossed somewhere deep below: name the member that holds it (`payload.deep`),
      // not a path sixty-four keys long.
      const path = issue.kind === 'size' ? issue.path.slice(0, 2) : issue.path;
      throw fieldsError([{ field: fieldName(result.target, path), message: issue.message }]);
    },
  });
}

export const ZProblem = z
  .object({
    type: z.string().openapi({ example: 'urn:dealix:problem:validation_failed' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().openapi({ example: 'validation_failed' }),
    correlation_id: z.string().openapi({ example: '4bf92f3577b34da6a3ce929d0e0e4736' }),
    instance: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

/** Bearer auth on an OpenAPI operation. */
export const BEARER = [{ bearerAuth: [] }];
/** A JSON response entry for `createRoute({ responses })`. */
export const jsonResponse = <T>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
/** A required JSON request body: a missing or non-JSON body is refused (415), not read as {}. */
export const jsonBody = <T>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ZProblem } } });

/** The error responses every authenticated route can give, for the OpenAPI document. */
export const COMMON_ERROR_RESPONSES = {
  400: problem('Malformed request (for example invalid JSON)'),
  401: problem('Missing, invalid or expired token, or unknown tenant'),
  403: problem('Your role may not do this'),
  404: problem('Not found (including resources of another tenant)'),
  409: problem('Conflict: concurrent change, or an Idempotency-Key still in progress'),
  422: problem('Validation failed; `errors` names each field, or an Idempotency-Key was reused'),
} as const;

export const ZIdParam = z.object({
  id: z.uuid({ message: 'must be a UUID' }).openapi({ param: { name: 'id', in: 'path' }, example: '0193a6f2-9d7e-7c1a-8a7e-3b5c0f1d2e4f' }),
});

export const IDEMPOTENCY_HEADER = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .openapi({ param: { name: 'idempotency-key', in: 'header' }, description: 'Replays the stored response when retried with the same body (24 h).' }),
});
