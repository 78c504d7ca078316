import { describe, expect, it } from 'vitest';
import { jsonFixture } from '../../../test/fixtures/whatsapp-webhooks/load-fixture.ts';
import { parseGreenApiWebhook } from './parse-green-api.ts';

const ARABIC_TEXT = 'أبغى أعرف الأسعار';

// `any`: test-only free-form edits of fixture JSON to derive variants.
function fixtureRecord(name: string): Record<string, any> {
  return structuredClone(jsonFixture(name)) as Record<string, any>;
}

describe('parseGreenApiWebhook', () => {
  it('parses an incoming textMessage with Arabic text, E.164 sender, name and provider time', () => {
    expect(parseGreenApiWebhook(jsonFixture('green-api.text.json'))).toEqual({
      ok: true,
      events: [
        {
          kind: 'message',
          providerMessageId: 'BAE5F4886F6F2D05',
          fromE164: '+966512345678',
          text: ARABIC_TEXT,
          senderName: 'أبو خالد',
          receivedAt: new Date('2025-06-08T20:59:43.000Z'),
        },
      ],
    });
  });

  it('reads extendedTextMessage and quotedMessage text from extendedTextMessageData.text', () => {
    for (const [name, id] of [
      ['green-api.extended-text.json', 'BAE5F4886F6F2D06'],
      ['green-api.quoted.json', 'BAE5F4886F6F2D07'],
    ] as const) {
      const result = parseGreenApiWebhook(jsonFixture(name));
      expect(result).toMatchObject({ ok: true, events: [{ kind: 'message', providerMessageId: id, text: ARABIC_TEXT, fromE164: '+966512345678' }] });
    }
  });

  it('ignores echoes of our own sends', () => {
    expect(parseGreenApiWebhook(jsonFixture('green-api.outgoing-echo.json'))).toEqual({
      ok: true,
      events: [{ kind: 'ignored', reason: 'echo of our own send (outgoingAPIMessageReceived)' }],
    });
    const phoneEcho = fixtureRecord('green-api.outgoing-echo.json');
    phoneEcho['typeWebhook'] = 'outgoingMessageReceived';
    expect(parseGreenApiWebhook(phoneEcho)).toMatchObject({ ok: true, events: [{ kind: 'ignored' }] });
  });

  it.each([
    ['green-api.status-delivered.json', 'delivered', null, '2025-06-08T21:00:05.000Z'],
    ['green-api.status-read.json', 'read', null, '2025-06-08T21:00:10.000Z'],
    ['green-api.status-no-account.json', 'failed', 'noAccount', '2025-06-08T21:00:06.000Z'],
  ])('maps outgoingMessageStatus %s', (name, status, errorCode, at) => {
    const result = parseGreenApiWebhook(jsonFixture(name));
    expect(result).toMatchObject({ ok: true, events: [{ kind: 'status', externalId: '3EB0C767D097B7C7C030', status, errorCode, at: new Date(at) }] });
  });

  it('maps notInGroup to failed with its code and an unknown status to ignored (never a false failure)', () => {
    const notInGroup = fixtureRecord('green-api.status-delivered.json');
    notInGroup['status'] = 'notInGroup';
    expect(parseGreenApiWebhook(notInGroup)).toMatchObject({ ok: true, events: [{ kind: 'status', status: 'failed', errorCode: 'notInGroup' }] });
    const unknown = fixtureRecord('green-api.status-delivered.json');
    unknown['status'] = 'somethingNew';
    expect(parseGreenApiWebhook(unknown)).toEqual({ ok: true, events: [{ kind: 'ignored', reason: 'outgoingMessageStatus somethingNew is not handled' }] });
  });

  it('flags {{SWE001}}/{{SWE003}} decryption failures but keeps the text', () => {
    for (const marker of ['{{SWE001}}', '{{SWE003}}']) {
      const body = fixtureRecord('green-api.text.json');
      body['messageData'].textMessageData.textMessage = marker;
      expect(parseGreenApiWebhook(body)).toMatchObject({ ok: true, events: [{ kind: 'message', text: marker, decryptionFailed: true }] });
    }
    const plain = parseGreenApiWebhook(jsonFixture('green-api.text.json'));
    expect(plain.ok && plain.events[0]).not.toHaveProperty('decryptionFailed');
  });

  it('ignores group chats and non-text message types', () => {
    const group = fixtureRecord('green-api.text.json');
    group['senderData'].chatId = '120363043968066561@g.us';
    expect(parseGreenApiWebhook(group)).toEqual({ ok: true, events: [{ kind: 'ignored', reason: 'group message' }] });

    const image = fixtureRecord('green-api.text.json');
    image['messageData'] = { typeMessage: 'imageMessage', fileMessageData: { downloadUrl: 'https://example.invalid/a.jpg', caption: '' } };
    expect(parseGreenApiWebhook(image)).toEqual({ ok: true, events: [{ kind: 'ignored', reason: 'non-text message type imageMessage' }] });
  });

  it('falls back to senderContactName, then null, when senderName is empty', () => {
    const body = fixtureRecord('green-api.text.json');
    body['senderData'].senderName = '';
    body['senderData'].senderContactName = 'Khalid (CRM)';
    expect(parseGreenApiWebhook(body)).toMatchObject({ events: [{ senderName: 'Khalid (CRM)' }] });
    body['senderData'].senderContactName = '';
    expect(parseGreenApiWebhook(body)).toMatchObject({ events: [{ senderName: null }] });
  });

  it('ignores other webhook types such as stateInstanceChanged', () => {
    expect(parseGreenApiWebhook({ typeWebhook: 'stateInstanceChanged', stateInstance: 'authorized', timestamp: 1 })).toEqual({
      ok: true,
      events: [{ kind: 'ignored', reason: 'typeWebhook stateInstanceChanged is not handled' }],
    });
  });

  it('rejects the malformed fixture naming senderData', () => {
    const result = parseGreenApiWebhook(jsonFixture('green-api.malformed.json'));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.map((error) => error.field)).toEqual(['senderData']);
  });

  it('rejects a textMessage without its text, a body without typeWebhook, and non-objects', () => {
    const noText = fixtureRecord('green-api.text.json');
    delete noText['messageData'].textMessageData;
    expect(parseGreenApiWebhook(noText)).toMatchObject({ ok: false, errors: [{ field: 'messageData.textMessageData.textMessage' }] });
    expect(parseGreenApiWebhook({ idMessage: 'x' })).toMatchObject({ ok: false, errors: [{ field: 'typeWebhook' }] });
    expect(parseGreenApiWebhook('not json')).toMatchObject({ ok: false, errors: [{ field: 'body' }] });
    expect(parseGreenApiWebhook(null)).toMatchObject({ ok: false });
  });
});
