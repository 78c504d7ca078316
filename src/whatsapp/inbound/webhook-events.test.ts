import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jsonFixture } from '../../../test/fixtures/whatsapp-webhooks/load-fixture.ts';
import { parseFonnteWebhook } from './parse-fonnte.ts';
import { parseGreenApiWebhook } from './parse-green-api.ts';
import { parseMetaCloudWebhook } from './parse-meta-cloud.ts';
import { parseUltramsgWebhook } from './parse-ultramsg.ts';
import { parseBody, unixSecondsToDate, ZInboundWebhookEvent, type ParseResult } from './webhook-events.ts';

describe('unixSecondsToDate', () => {
  it.each([
    [1749416383, '2025-06-08T20:59:43.000Z'],
    ['1749416383', '2025-06-08T20:59:43.000Z'],
    [' 1749416383 ', '2025-06-08T20:59:43.000Z'],
  ])('%j → %s', (input, iso) => expect(unixSecondsToDate(input)?.toISOString()).toBe(iso));

  it.each([undefined, null, '', '0', 0, -5, 'abc', '17494e3', Number.NaN])('%j → null', (input) => expect(unixSecondsToDate(input)).toBeNull());

  // Past 8.64e12 s a Date is invalid, and its toISOString() throws a RangeError (a 500, found by the schema fuzz).
  it.each([99_999_999_999_999, '99999999999999', 2 ** 53, '9007199254740993', 1e308])('%j (past any Date) → null', (input) => expect(unixSecondsToDate(input)).toBeNull());
});

describe('parseBody', () => {
  it('names nested fields with dotted paths and the body itself as "body"', () => {
    const schema = z.object({ a: z.object({ b: z.array(z.string()) }) });
    expect(parseBody(schema, { a: { b: ['x', 1] } })).toMatchObject({ ok: false, errors: [{ field: 'a.b.1' }] });
    expect(parseBody(schema, 'text')).toMatchObject({ ok: false, errors: [{ field: 'body' }] });
    expect(parseBody(schema, { a: { b: [] } })).toEqual({ ok: true, data: { a: { b: [] } } });
  });
});

describe('every fixture against the normalised event schema', () => {
  const cases: [string, (body: unknown) => ParseResult][] = [
    ['green-api.text.json', parseGreenApiWebhook],
    ['green-api.extended-text.json', parseGreenApiWebhook],
    ['green-api.quoted.json', parseGreenApiWebhook],
    ['green-api.outgoing-echo.json', parseGreenApiWebhook],
    ['green-api.status-delivered.json', parseGreenApiWebhook],
    ['green-api.status-read.json', parseGreenApiWebhook],
    ['green-api.status-no-account.json', parseGreenApiWebhook],
    ['ultramsg.message-received.json', parseUltramsgWebhook],
    ['ultramsg.form-encoded.json', parseUltramsgWebhook],
    ['ultramsg.from-me-echo.json', parseUltramsgWebhook],
    ['ultramsg.message-ack.json', parseUltramsgWebhook],
    ['fonnte.message.json', parseFonnteWebhook],
    ['fonnte.message-status.json', parseFonnteWebhook],
    ['fonnte.device-status.json', parseFonnteWebhook],
    ['meta-cloud.text.json', parseMetaCloudWebhook],
    ['meta-cloud.text-escaped.json', parseMetaCloudWebhook],
    ['meta-cloud.batch.json', parseMetaCloudWebhook],
    ['meta-cloud.statuses.json', parseMetaCloudWebhook],
  ];

  it.each(cases)('%s parses to schema-valid events', (name, parse) => {
    const result = parse(jsonFixture(name));
    if (!result.ok) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
    expect(result.events.length).toBeGreaterThan(0);
    for (const event of result.events) expect(ZInboundWebhookEvent.parse(event)).toEqual(event);
  });

  it.each([
    ['green-api.malformed.json', parseGreenApiWebhook],
    ['ultramsg.malformed.json', parseUltramsgWebhook],
    ['fonnte.malformed.json', parseFonnteWebhook],
    ['meta-cloud.malformed.json', parseMetaCloudWebhook],
  ] as const)('%s is rejected with at least one named field', (name, parse) => {
    const result = parse(jsonFixture(name));
    expect(result.ok).toBe(false);
    if (!result.ok) for (const error of result.errors) expect(error.field).not.toBe('');
  });
});

describe('message text with U+0000 or a lone surrogate', () => {
  /** The body with every string equal to `text` replaced (fixtures are small and shallow). */
  const replaceText = (value: unknown, text: string, by: string): unknown => {
    if (value === text) return by;
    if (Array.isArray(value)) return value.map((item) => replaceText(item, text, by));
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceText(v, text, by)]));
    return value;
  };

  it.each([
    ['green-api.text.json', parseGreenApiWebhook],
    ['green-api.extended-text.json', parseGreenApiWebhook],
    ['ultramsg.message-received.json', parseUltramsgWebhook],
    ['fonnte.message.json', parseFonnteWebhook],
    ['meta-cloud.text.json', parseMetaCloudWebhook],
  ] as const)('%s: the NUL is stripped, the surrogate replaced, the message kept', (name, parse) => {
    const clean = parse(jsonFixture(name));
    if (!clean.ok || clean.events[0]?.kind !== 'message') throw new Error(`${name} holds no message`);
    const text = clean.events[0].text;
    const poisoned = parse(replaceText(jsonFixture(name), text, `\u0000${text.slice(0, 2)}\u0000${text.slice(2)}\ud800`));
    expect(poisoned).toEqual({ ok: true, events: [{ ...clean.events[0], text: `${text}\ufffd` }] });
  });
  // The schema fuzz found it: an id of only U+0000 stored as '' (then a 500 starting its run).
  it.each([
    ['green-api.text.json', parseGreenApiWebhook],
    ['ultramsg.message-received.json', parseUltramsgWebhook],
    ['fonnte.message.json', parseFonnteWebhook],
    ['meta-cloud.text.json', parseMetaCloudWebhook],
  ] as const)('%s: a message id of nothing but U+0000 is refused, naming the field', (name, parse) => {
    const clean = parse(jsonFixture(name));
    if (!clean.ok || clean.events[0]?.kind !== 'message') throw new Error(`${name} holds no message`);
    const poisoned = parse(replaceText(jsonFixture(name), clean.events[0].providerMessageId, '\u0000\u0000'));
    expect(poisoned).toEqual({ ok: false, errors: [expect.objectContaining({ field: 'event 0: providerMessageId', message: expect.stringMatching(/once U\+0000/) })] });
  });
});
