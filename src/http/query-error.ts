/**
 * drizzle wraps every failed query in a DrizzleQueryError whose message is
 * `Failed query: <sql>\nparams: <every bound value>`: customers' names, phone numbers and
 * message texts, straight into log lines and stored run errors. What describes the failure is
 * the SQL and the SQLSTATE, never the values, so this module gives the message without them.
 */

interface QueryErrorLike extends Error {
  query: string;
  params: unknown[];
}

/** A drizzle query error (or any error carrying its `query` and bound `params`). */
export function isQueryError(error: unknown): error is QueryErrorLike {
  return error instanceof Error && typeof (error as { query?: unknown }).query === 'string' && Array.isArray((error as { params?: unknown }).params);
}

/** A bound value as it may be shown: its type and size, never its content. */
function describeParam(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return `<string ${value.length}>`;
  if (Array.isArray(value)) return `<array ${value.length}>`;
  return `<${typeof value}>`;
}

/** The SQLSTATE of the database error under `error`, if any. */
export function sqlstateOf(error: unknown): string | undefined {
  for (let current = error, hops = 0; current !== null && typeof current === 'object' && hops < 4; current = (current as { cause?: unknown }).cause, hops++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * An error's message safe to log or store: a query error's bound values replaced by their
 * types (and its SQLSTATE added); any other error's message as it is.
 *
 * @example
 * safeErrorMessage(new DrizzleQueryError('insert into contacts (name) values ($1)', ['Ahmed'], pgError))
 * // 'Failed query: insert into contacts (name) values ($1)\nparams: <string 5> (SQLSTATE 23505)'
 */
export function safeErrorMessage(error: unknown): string {
  if (!isQueryError(error)) return error instanceof Error ? error.message : String(error);
  const sqlstate = sqlstateOf(error.cause);
  return `Failed query: ${error.query}\nparams: ${error.params.map(describeParam).join(', ')}${sqlstate ? ` (SQLSTATE ${sqlstate})` : ''}`;
}
