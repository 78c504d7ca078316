import { describe, expect, it } from 'vitest';
import { describeBusinessHours, isWithinBusinessHours, nextBusinessOpening, ZBusinessHours } from './business-hours.ts';

describe('business hours in any zone', () => {
  it('finds the next opening across a month end and a week end', () => {
    const riyadh = { days: [0, 1, 2, 3, 4], start: '09:00', end: '18:00', timezone: 'Asia/Riyadh' };
    // Thursday 2026-04-30 19:00 Riyadh → Sunday 2026-05-03 09:00 Riyadh.
    expect(nextBusinessOpening(new Date('2026-04-30T16:00:00Z'), riyadh).toISOString()).toBe('2026-05-03T06:00:00.000Z');
  });

  it('lands on the local opening in a zone with daylight saving time', () => {
    const london = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:30', timezone: 'Europe/London' };
    // Friday 2026-03-27 18:00 GMT → Monday 2026-03-30 09:00 BST (= 08:00Z), after the clocks went forward.
    expect(nextBusinessOpening(new Date('2026-03-27T18:00:00Z'), london).toISOString()).toBe('2026-03-30T08:00:00.000Z');
    expect(isWithinBusinessHours(new Date('2026-03-30T08:00:00Z'), london)).toBe(true);
    expect(isWithinBusinessHours(new Date('2026-03-30T16:30:00Z'), london)).toBe(false); // 17:30 BST: closed
  });

  it('handles a six-day week with a single open day elsewhere', () => {
    const saturdayOnly = { days: [6], start: '10:00', end: '12:00', timezone: 'Asia/Kuwait' };
    // Saturday 2026-01-10 12:00 Kuwait (closed, just after) → the next Saturday.
    expect(nextBusinessOpening(new Date('2026-01-10T09:00:00Z'), saturdayOnly).toISOString()).toBe('2026-01-17T07:00:00.000Z');
  });

  it('describes hours for people', () => {
    expect(describeBusinessHours({ days: [4, 0, 1, 2, 3], start: '09:00', end: '18:00', timezone: 'Asia/Riyadh' })).toBe('Sun–Thu 09:00–18:00 Asia/Riyadh');
    expect(describeBusinessHours({ days: [0, 2, 4], start: '09:00', end: '13:00', timezone: 'Asia/Qatar' })).toBe('Sun, Tue, Thu 09:00–13:00 Asia/Qatar');
  });

  it('refuses hours that cannot be right, naming the field', () => {
    const issues = (value: unknown) => ZBusinessHours.safeParse(value).error?.issues.map((issue) => issue.path.join('.'));
    expect(issues({ days: [0], start: '18:00', end: '09:00' })).toEqual(['end']);
    expect(issues({ days: [0], start: '9:00', end: '18:00' })).toEqual(['start']);
    expect(issues({ days: [0], start: '09:00', end: '18:00', timezone: 'Mars/Olympus' })).toEqual(['timezone']);
    expect(issues({ days: [0, 0], start: '09:00', end: '18:00' })).toEqual(['days']);
    expect(issues({ days: [7], start: '09:00', end: '18:00' })).toEqual(['days.0']);
    expect(ZBusinessHours.parse({ days: [0], start: '09:00', end: '18:00' }).timezone).toBe('Asia/Riyadh');
  });
});
