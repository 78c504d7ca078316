import { describe, expect, it } from 'vitest';
import { jsonFixture } from '../../../test/fixtures/whatsapp-webhooks/load-fixture.ts';
import { parseUltramsgWebhook } from './parse-ultramsg.ts';

const ARABIC_TEXT = 'أبغى أعرف الأسعار';

// `any`: test-only free-form edits of fixture JSON to derive variants.
function fixtureRecord(name: string): Record<string, any> {
  return structuredClone(jsonFixture(name)) as Record<string, any>;
}

const EXPECTED_MESSAGE = {
  kind: 'message',
  providerMessageId: 'false_966512345678@c.us_3EB02E5EB89CE03FB034',
  fromE164: '+966512345678',
  text: ARABIC_TEXT,
  senderName: 'أبو خالد',
  receivedAt: new Date('2025-06-08T20:59:43.000Z'),
};

describe('parseUltramsgWebhook', () => {
  it('parses message_received of type chat', () => {
    expect(parseUltramsgWebhook(jsonFixture('ultramsg.message-received.json'))).toEqual({ ok: true, events: [EXPECTED_MESSAGE] });
  });

  it('accepts the form-encoded variant whose data is a JSON string (UNCONFIRMED)', () => {
    const body = jsonFixture('ultramsg.form-encoded.json') as { data: unknown };
    expect(typeof body.data).toBe('string');
    expect(parseUltramsgWebhook(body)).toEqual({ ok: true, events: [EXPECTED_MESSAGE] });
  });

  it('rejects a form-encoded data string that is not JSON, naming data', () => {
    expect(parseUltramsgWebhook({ event_type: 'message_received', data: '{"id": "x",' })).toEqual({
      ok: false,
      errors: [{ field: 'data', message: 'is a string but not valid JSON' }],
    });
  });

  it('ignores fromMe echoes and message_create', () => {
    expect(parseUltramsgWebhook(jsonFixture('ultramsg.from-me-echo.json'))).toEqual({ ok: true, events: [{ kind: 'ignored', reason: 'echo of our own send (fromMe)' }] });
    const create = fixtureRecord('ultramsg.from-me-echo.json');
    create['event_type'] = 'message_create';
    expect(parseUltramsgWebhook(create)).toEqual({ ok: true, events: [{ kind: 'ignored', reason: 'echo of our own send (message_create)' }] });
  });

  it('ignores groups and non-text types', () => {
    const group = fixtureRecord('ultramsg.message-received.json');
    group['data'].from = '120363043968066561@g.us';
    group['data'].author = '966512345678@c.us';
    expect(parseUltramsgWebhook(group)).toEqual({ ok: true, events: [{ kind: 'ignored', reason: 'group message' }] });
    const image = fixtureRecord('ultramsg.message-received.json');
    image['data'].type = 'image';
    expect(parseUltramsgWebhook(image)).toEqual({ ok: true, events: [{ kind: 'ignored', reason: 'non-text message type image' }] });
  });

  it('maps message_ack device to delivered', () => {
    expect(parseUltramsgWebhook(jsonFixture('ultramsg.message-ack.json'))).toEqual({
      ok: true,
      events: [{ kind: 'status', externalId: 'true_966512345678@c.us_3EB0C767D097B7C7C031', status: 'delivered', errorCode: null, errorReason: null, at: new Date('2025-06-08T21:00:05.000Z') }],
    });
  });

  it.each([
    ['server', 'sent'],
    ['device', 'delivered'],
    ['read', 'read'],
    ['played', 'read'],
    [3, 'read'],
  ])('maps ack %j to %s', (ack, status) => {
    const body = fixtureRecord('ultramsg.message-ack.json');
    body['data'].ack = ack;
    expect(parseUltramsgWebhook(body)).toMatchObject({ ok: true, events: [{ kind: 'status', status }] });
  });

  it.each(['pending', 'constructor', 'weird'])('ignores ack %j', (ack) => {
    const body = fixtureRecord('ultramsg.message-ack.json');
    body['data'].ack = ack;
    expect(parseUltramsgWebhook(body)).toMatchObject({ ok: true, events: [{ kind: 'ignored' }] });
  });

  it('rejects the malformed fixture naming data.from', () => {
    expect(parseUltramsgWebhook(jsonFixture('ultramsg.malformed.json'))).toMatchObject({ ok: false, errors: [{ field: 'data.from' }] });
  });

  it('rejects a body without event_type or data', () => {
    const result = parseUltramsgWebhook({ instanceId: '1150' });
    expect(!result.ok && result.errors.map((error) => error.field).sort()).toEqual(['data', 'event_type']);
  });
});
