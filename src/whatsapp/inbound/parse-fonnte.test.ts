import { describe, expect, it } from 'vitest';
import { jsonFixture } from '../../../test/fixtures/whatsapp-webhooks/load-fixture.ts';
import { parseFonnteWebhook } from './parse-fonnte.ts';

const ARABIC_TEXT = 'أبغى أعرف الأسعار';

// `any`: test-only free-form edits of fixture JSON to derive variants.
function fixtureRecord(name: string): Record<string, any> {
  return structuredClone(jsonFixture(name)) as Record<string, any>;
}

describe('parseFonnteWebhook', () => {
  it('parses an inbound message, using inboxid as the message id', () => {
    expect(parseFonnteWebhook(jsonFixture('fonnte.message.json'))).toEqual({
      ok: true,
      events: [
        {
          kind: 'message',
          providerMessageId: '80367171',
          fromE164: '+966512345678',
          text: ARABIC_TEXT,
          senderName: 'أبو خالد',
          receivedAt: new Date('2025-06-08T20:59:43.000Z'),
        },
      ],
    });
  });

  it('accepts timestamp and inboxid as numbers or strings (UNCONFIRMED types)', () => {
    const body = fixtureRecord('fonnte.message.json');
    body['timestamp'] = '1749416383';
    body['inboxid'] = 80367171;
    expect(parseFonnteWebhook(body)).toMatchObject({ ok: true, events: [{ providerMessageId: '80367171', receivedAt: new Date('2025-06-08T20:59:43.000Z') }] });
  });

  it('derives a stable synthetic id without inboxid: same for a redelivery, different for a new message', () => {
    const first = fixtureRecord('fonnte.message.json');
    delete first['inboxid'];
    const redelivery = structuredClone(first);
    const later = { ...structuredClone(first), timestamp: 1749416999 };
    const otherText = { ...structuredClone(first), message: 'شكراً' };
    const idOf = (body: unknown): string | undefined => {
      const result = parseFonnteWebhook(body);
      const event = result.ok ? result.events[0] : undefined;
      return event?.kind === 'message' ? event.providerMessageId : undefined;
    };
    const id = idOf(first);
    expect(id).toMatch(/^fonnte-synthetic:[0-9a-f]{40}$/);
    expect(idOf(redelivery)).toBe(id);
    expect(idOf(later)).not.toBe(id);
    expect(idOf(otherText)).not.toBe(id);
  });

  it('ignores group messages (member set, or a sender that is a group id)', () => {
    const withMember = fixtureRecord('fonnte.message.json');
    withMember['member'] = '966512345678';
    expect(parseFonnteWebhook(withMember)).toEqual({ ok: true, events: [{ kind: 'ignored', reason: 'group message' }] });
    const groupSender = fixtureRecord('fonnte.message.json');
    groupSender['sender'] = '120363043968066561@g.us';
    expect(parseFonnteWebhook(groupSender)).toMatchObject({ ok: true, events: [{ kind: 'ignored' }] });
  });

  it('ignores a message without text (location, poll, attachment)', () => {
    const location = fixtureRecord('fonnte.message.json');
    location['message'] = '';
    location['location'] = '24.7136,46.6753';
    expect(parseFonnteWebhook(location)).toMatchObject({ ok: true, events: [{ kind: 'ignored' }] });
  });

  it('maps a status update, preferring the delivery state (read) over status sent', () => {
    expect(parseFonnteWebhook(jsonFixture('fonnte.message-status.json'))).toEqual({
      ok: true,
      events: [{ kind: 'status', externalId: '80367170', status: 'read', errorCode: null, errorReason: null, at: null }],
    });
  });

  it.each([
    [{ status: 'sent' }, { kind: 'status', status: 'sent', errorCode: null }],
    [{ status: 'invalid' }, { kind: 'status', status: 'failed', errorCode: 'invalid' }],
    [{ status: 'expired' }, { kind: 'status', status: 'failed', errorCode: 'expired' }],
    [{ status: 'pending' }, { kind: 'ignored' }],
    [{ status: 'waiting' }, { kind: 'ignored' }],
    [{ status: 'processing' }, { kind: 'ignored' }],
    [{ status: 'sent', state: 'delivered' }, { kind: 'status', status: 'delivered' }],
  ])('maps %j', (fields, expected) => {
    expect(parseFonnteWebhook({ device: '966501234567', id: 80367170, ...fields })).toMatchObject({ ok: true, events: [{ ...expected }] });
  });

  it('ignores a device status webhook and never repeats its token', () => {
    const result = parseFonnteWebhook(jsonFixture('fonnte.device-status.json'));
    expect(result).toEqual({ ok: true, events: [{ kind: 'ignored', reason: 'device status update (disconnect)' }] });
    expect(JSON.stringify(result)).not.toContain('FAKE-fonnte-device-token');
  });

  it('does not copy a token-like device status word into the reason', () => {
    const result = parseFonnteWebhook({ device: '966501234567', status: 'tok3n+with/odd=chars', token: 'FAKE-token', reason: 'x' });
    expect(result).toEqual({ ok: true, events: [{ kind: 'ignored', reason: 'device status update' }] });
  });

  it('rejects the malformed fixture naming message', () => {
    expect(parseFonnteWebhook(jsonFixture('fonnte.malformed.json'))).toMatchObject({ ok: false, errors: [{ field: 'message' }] });
  });

  it('rejects a body that is none of the three shapes, and non-objects', () => {
    const result = parseFonnteWebhook({ device: '966501234567' });
    expect(!result.ok && result.errors.map((error) => error.field)).toEqual(['sender', 'message']);
    expect(parseFonnteWebhook([])).toEqual({ ok: false, errors: [{ field: 'body', message: 'must be a JSON object' }] });
  });
});
