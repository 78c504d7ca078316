import pino, { type Logger } from 'pino';
import { isQueryError, safeErrorMessage, sqlstateOf } from './query-error.ts';

export type { Logger };

/**
 * Paths whose values never reach a log line, whatever they hold. pino's redaction is by path,
 * so {@link scrub} below also masks secrets and phone numbers that appear inside free text.
 */
const REDACT_PATHS = [
  'authorization',
  'password',
  'secret',
  'token',
  'phone',
  'phone_e164',
  'phoneE164',
  '*.authorization',
  '*.Authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.apiKey',
  '*.api_key',
  '*.jwtSecret',
  '*.phone',
  '*.phone_e164',
  '*.phoneE164',
  '*.connectionString',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi;
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@]+:)[^@\s]+@/gi;
// International or Saudi-local mobile numbers, with the separators people type. Not a run
// glued to ':' or a decimal point, so timestamps ("2026-11-21 19:44:32.002") stay readable.
const PHONE = /(?<![\w:.-])(?:\+|00)?(?:\d[\s-]?){8,14}\d(?![\w:-]|\.\d)/g;

/** Masks tokens, URL passwords and phone numbers in a string. */
export function scrubText(text: string): string {
  return text
    .replace(JWT, '[redacted-jwt]')
    .replace(BEARER, '$1 [redacted]')
    .replace(URL_CREDENTIALS, '$1[redacted]@')
    .replace(PHONE, (match) => `[phone …${match.replace(/\D/g, '').slice(-2)}]`);
}

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    if (isQueryError(value)) {
      // The message (and so the stack's header) lists every bound value: keep only the frames,
      // cut after the exact header, since a value may itself hold a line that looks like a frame.
      const message = safeErrorMessage(value);
      const header = `${value.name}: ${value.message}`;
      const frames = value.stack?.startsWith(header) ? value.stack.slice(header.length) : '';
      return { type: value.name, message: scrubText(message), sqlstate: sqlstateOf(value), stack: scrubText(`${value.name}: ${message}${frames}`) };
    }
    return { type: value.name, message: scrubText(value.message), stack: value.stack ? scrubText(value.stack) : undefined };
  }
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = scrub(item, depth + 1);
  return out;
}

export interface LoggerOptions {
  level: string;
  /** Where lines go; tests pass a stream to read them back. */
  destination?: pino.DestinationStream;
}

/**
 * The process logger: pino JSON, secrets redacted by path and by pattern.
 *
 * @example
 * const logger = createLogger({ level: 'info' });
 * logger.child({ correlation_id }).info('deal created');
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'dealix' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { log: (object) => scrub(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          // The message string is not covered by formatters.log.
          const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubText(arg) : arg)) as typeof args;
          method.apply(this, scrubbed);
        },
      },
      serializers: { err: (error: unknown) => scrub(error) },
    },
    options.destination,
  );
}
