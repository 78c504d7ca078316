import { z } from '@hono/zod-openapi';

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

const knownZones = new Set<string>();

/** Building an Intl formatter is costly and settings are parsed on every decision: valid zones are remembered. */
function isTimeZone(zone: string): boolean {
  if (knownZones.has(zone)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    return false;
  }
  knownZones.add(zone);
  return true;
}

/**
 * Weekly opening hours in a time zone: days 0 = Sunday … 6 = Saturday, `start` inclusive,
 * `end` exclusive, the same every open day. Gulf weeks run Sunday–Thursday; no overnight
 * spans (a sales desk does not open at 22:00 and close at 02:00).
 */
export const ZBusinessHours = z
  .strictObject({
    days: z
      .array(z.number().int().min(0).max(6))
      .min(1)
      .refine((days) => new Set(days).size === days.length, 'must not repeat a day')
      .openapi({ description: '0 = Sunday … 6 = Saturday', example: [0, 1, 2, 3, 4] }),
    start: z.string().regex(HH_MM, 'must be HH:MM').openapi({ example: '09:00' }),
    end: z.string().regex(HH_MM, 'must be HH:MM').openapi({ example: '18:00' }),
    timezone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Asia/Riyadh').default('Asia/Riyadh').openapi({ example: 'Asia/Riyadh' }),
  })
  // Only once both times are well-formed: a malformed one has its own error already.
  .refine((hours) => !HH_MM.test(hours.start) || !HH_MM.test(hours.end) || hours.start < hours.end, { message: 'must be after start (no overnight hours)', path: ['end'] });
export type BusinessHours = z.infer<typeof ZBusinessHours>;

/** Issue 4's default: Sunday to Thursday, 09:00–18:00 Asia/Riyadh. */
export const DEFAULT_BUSINESS_HOURS: BusinessHours = { days: [0, 1, 2, 3, 4], start: '09:00', end: '18:00', timezone: 'Asia/Riyadh' };

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall clock in `timezone` at `at`. Formatters are cached: building one costs far more than using it. */
export function localClock(at: Date, timezone: string): { year: number; month: number; day: number; weekday: number; hour: number; minute: number } {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timezone, formatter);
  }
  const parts: Record<string, string> = {};
  for (const part of formatter.formatToParts(at)) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: WEEKDAYS.indexOf(parts.weekday ?? ''),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
  };
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** True when `at` falls inside the hours (the closing minute itself is closed). */
export function isWithinBusinessHours(at: Date, hours: BusinessHours = DEFAULT_BUSINESS_HOURS): boolean {
  const local = localClock(at, hours.timezone);
  const minutes = local.hour * 60 + local.minute;
  return hours.days.includes(local.weekday) && minutes >= minutesOf(hours.start) && minutes < minutesOf(hours.end);
}

/** The UTC instant of a wall-clock time in a zone (two passes, so a DST zone lands right too). */
function zonedToUtc(year: number, month: number, day: number, minutes: number, timezone: string): Date {
  const naive = Date.UTC(year, month - 1, day, 0, minutes);
  let guess = naive;
  for (let pass = 0; pass < 2; pass++) {
    const seen = localClock(new Date(guess), timezone);
    const seenAsUtc = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute);
    guess += naive - seenAsUtc;
  }
  return new Date(guess);
}

/**
 * The next opening at or after `at` (`at` itself when open now).
 *
 * @example
 * nextBusinessOpening(new Date('2026-01-08T15:00:00Z')) // Thursday 18:00 Riyadh → Sunday 2026-01-11T06:00:00.000Z
 */
export function nextBusinessOpening(at: Date, hours: BusinessHours = DEFAULT_BUSINESS_HOURS): Date {
  if (isWithinBusinessHours(at, hours)) return at;
  const local = localClock(at, hours.timezone);
  const beforeOpening = local.hour * 60 + local.minute < minutesOf(hours.start);
  for (let ahead = 0; ahead <= 7; ahead++) {
    if (ahead === 0 && !beforeOpening) continue;
    const weekday = (local.weekday + ahead) % 7;
    if (!hours.days.includes(weekday)) continue;
    // Date.UTC normalises day overflow (31 + 1 → the 1st of next month).
    const date = new Date(Date.UTC(local.year, local.month - 1, local.day + ahead));
    return zonedToUtc(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), minutesOf(hours.start), hours.timezone);
  }
  throw new Error('business hours with no open day');
}

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** "Sun–Thu 09:00–18:00 Asia/Riyadh", for reasons people read. */
export function describeBusinessHours(hours: BusinessHours): string {
  const sorted = [...hours.days].sort((a, b) => a - b);
  const contiguous = sorted.every((day, index) => index === 0 || day === (sorted[index - 1] as number) + 1);
  const days =
    contiguous && sorted.length > 1
      ? `${DAY_NAMES[sorted[0] as number]}–${DAY_NAMES[sorted[sorted.length - 1] as number]}`
      : sorted.map((day) => DAY_NAMES[day]).join(', ');
  return `${days} ${hours.start}–${hours.end} ${hours.timezone}`;
}
