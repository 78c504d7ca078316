/**
 * The closed set of error codes the API can answer with. Adding a code forces an entry in
 * {@link APP_ERRORS}: the compiler is the checklist.
 */
export type AppErrorCode =
  | 'bad_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'action_forbidden'
  | 'approval_refused'
  | 'four_eyes_required'
  | 'action_not_executable'
  | 'stage_transition_not_allowed'
  | 'idempotency_key_in_progress'
  | 'idempotency_key_reused'
  | 'request_timeout'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'validation_failed'
  | 'request_header_fields_too_large'
  | 'service_unavailable'
  | 'internal';

export interface AppErrorSpec {
  status: number;
  title: string;
}

/** Code → HTTP status and a stable human title (the `detail` carries the specifics). */
export const APP_ERRORS: Record<AppErrorCode, AppErrorSpec> = {
  bad_request: { status: 400, title: 'Bad request' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  action_forbidden: { status: 403, title: 'Action forbidden by policy' },
  approval_refused: { status: 403, title: 'Approval token refused' },
  four_eyes_required: { status: 403, title: 'Four-eyes rule: someone else must approve' },
  action_not_executable: { status: 422, title: 'Action cannot be executed' },
  stage_transition_not_allowed: { status: 409, title: 'Stage transition not allowed' },
  idempotency_key_in_progress: { status: 409, title: 'A request with this Idempotency-Key is still in progress' },
  idempotency_key_reused: { status: 422, title: 'Idempotency-Key reused with a different request' },
  request_timeout: { status: 408, title: 'Request timeout' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  validation_failed: { status: 422, title: 'Validation failed' },
  request_header_fields_too_large: { status: 431, title: 'Request header fields too large' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
  internal: { status: 500, title: 'Internal server error' },
};

/** One invalid field, named by its JSON path (`value_halalas`, `contact.phone`, `query.limit`). */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * The one error type use cases throw. Fields are readonly data so an error can be logged,
 * persisted or rendered without losing structure.
 *
 * @example
 * throw new AppError('not_found', 'Deal 0190… does not exist');
 */
export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly detail: string;
  readonly errors: readonly FieldError[] | undefined;
  readonly extra: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: AppErrorCode,
    detail: string,
    options: { errors?: FieldError[]; extra?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.detail = detail;
    this.errors = options.errors;
    this.extra = options.extra;
  }

  get status(): number {
    return APP_ERRORS[this.code].status;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
