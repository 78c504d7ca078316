import { AppError } from './app-error.ts';

/**
 * The one place PostgreSQL SQLSTATEs become domain errors. Use cases that expect a specific
 * violation (a duplicate phone, say) catch it themselves to say something more precise;
 * everything else lands here at the edge.
 */
interface PgErrorLike {
  code: string;
  constraint?: string;
  column?: string;
  detail?: string;
}

function isPgError(error: unknown): error is PgErrorLike {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    /^[0-9A-Z]{5}$/.test((error as { code: string }).code) &&
    'severity' in error
  );
}

/**
 * The connection to PostgreSQL failed, rather than a statement: refused or reset while the
 * server restarts, or a pooled connection the server closed. node-postgres gives these as
 * socket errors (errno codes, not SQLSTATEs) or as plain errors with only a message.
 */
const CONNECTION_ERRNOS: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'timeout exceeded when trying to connect',
  'the database system is starting up',
  'the database system is shutting down',
];

function isConnectionError(error: unknown): boolean {
  // The cause chain (drizzle wraps the driver's error) and AggregateError's members (one per address tried).
  const pending: unknown[] = [error];
  for (let seen = 0; pending.length && seen < 16; seen++) {
    const current = pending.shift();
    if (typeof current !== 'object' || current === null) continue;
    const { code, message, cause, errors } = current as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string' && CONNECTION_ERRNOS.has(code)) return true;
    if (typeof message === 'string' && CONNECTION_MESSAGES.some((known) => message.startsWith(known))) return true;
    if (cause !== undefined) pending.push(cause);
    if (Array.isArray(errors)) pending.push(...(errors as unknown[]));
  }
  return false;
}

/** Returns the AppError a database error stands for, or undefined when it is not one we know. */
export function translatePgError(error: unknown): AppError | undefined {
  if (!isPgError(error) && !isPgError((error as { cause?: unknown })?.cause) && isConnectionError(error)) {
    return new AppError('service_unavailable', 'The database is unreachable; retry later', { cause: error });
  }
  const pgError = isPgError(error) ? error : isPgError((error as { cause?: unknown })?.cause) ? (error as { cause: PgErrorLike }).cause : undefined;
  if (!pgError) return undefined;
  // Constraint names stay in the log (the cause): they describe the schema, not the caller's input.
  switch (pgError.code) {
    case '23505':
      return new AppError('conflict', 'A record with the same unique value already exists', { cause: error });
    case '23503':
      // A composite (tenant_id, id) foreign key fails for a missing row and for another
      // tenant's row alike, so the message cannot say which: both look "not found".
      return new AppError('validation_failed', 'A referenced record does not exist', {
        cause: error,
        errors: [{ field: referencedField(pgError.constraint), message: 'does not exist' }],
      });
    case '23514':
    case '23502':
    case '22P02':
    case '22003':
    case '22007':
    case '22008':
      return new AppError('validation_failed', 'A value was rejected by the database', {
        cause: error,
        errors: pgError.column ? [{ field: pgError.column, message: 'invalid value' }] : [],
      });
    case '22021':
    case '22P05':
      // U+0000 in text (22021) or jsonb (22P05). Routes refuse it by name first
      // (src/http/json-input.ts); this catches a value that reached SQL another way.
      return new AppError('validation_failed', 'A text value holds U+0000 (NUL), which the database cannot store', {
        cause: error,
        errors: pgError.column ? [{ field: pgError.column, message: 'must not contain U+0000 (NUL)' }] : [],
      });
    case '54000':
    case '54001':
      // Program limit (an index row too large, an array too big) or stack depth (input nested
      // too deep): the input's size, not the server's health.
      return new AppError('validation_failed', 'A value is too large or too deeply nested for the database', {
        cause: error,
        errors: pgError.column ? [{ field: pgError.column, message: 'is too large or too deeply nested' }] : [],
      });
    case '42501':
      // Insufficient privilege or a row-level security WITH CHECK failure: either way the
      // caller asked to touch something outside its tenant, which must look like absence.
      return new AppError('not_found', 'The resource does not exist', { cause: error });
    case '40001':
    case '40P01':
      return new AppError('conflict', 'The request conflicted with a concurrent change; retry it', { cause: error });
    case '55P03':
      return new AppError('conflict', 'The resource is locked by a concurrent request; retry it', { cause: error });
    case '57014':
    case '57P01':
    case '57P02':
    case '57P03':
    case '53300':
      return new AppError('service_unavailable', 'The database is unavailable or overloaded; retry later', { cause: error });
    default:
      if (pgError.code.startsWith('08')) {
        return new AppError('service_unavailable', 'The database connection failed; retry later', { cause: error });
      }
      return undefined;
  }
}

/** `deals__contact_id__fk` → `contact_id`: foreign keys are named `<table>__<column>__fk`. */
function referencedField(constraint: string | undefined): string {
  return constraint?.split('__')[1] ?? 'reference';
}
