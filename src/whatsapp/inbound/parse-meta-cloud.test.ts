import { describe, expect, it } from 'vitest';
import { jsonFixture } from '../../../test/fixtures/whatsapp-webhooks/load-fixture.ts';
import { parseMetaCloudWebhook } from './parse-meta-cloud.ts';

const ARABIC_TEXT = 'أبغى أعرف الأسعار';
const INBOUND_ID = 'wamid.HBgMOTY2NTEyMzQ1Njc4FQIAEhgUM0E0QTY1OTlBRUUwMzgxMDE0NEYA';
const OUT_1 = 'wamid.HBgMOTY2NTEyMzQ1Njc4FQIAERgSQUFBQUFBQUFBQUFBQUFBAA==';
const OUT_2 = 'wamid.HBgMOTY2NTEyMzQ1Njc4FQIAERgSQkJCQkJCQkJCQkJCQkJCAA==';

// `any`: test-only free-form edits of fixture JSON to derive variants.
function fixtureRecord(name: string): Record<string, any> {
  return structuredClone(jsonFixture(name)) as Record<string, any>;
}

const EXPECTED_TEXT = {
  kind: 'message',
  providerMessageId: INBOUND_ID,
  fromE164: '+966512345678',
  text: ARABIC_TEXT,
  senderName: 'أبو خالد',
  receivedAt: new Date('2025-06-08T20:59:43.000Z'),
};

describe('parseMetaCloudWebhook', () => {
  it('parses a single text message', () => {
    expect(parseMetaCloudWebhook(jsonFixture('meta-cloud.text.json'))).toEqual({ ok: true, events: [EXPECTED_TEXT] });
  });

  it('decodes the \\u-escaped fixture to the same Arabic text', () => {
    expect(parseMetaCloudWebhook(jsonFixture('meta-cloud.text-escaped.json'))).toEqual({ ok: true, events: [EXPECTED_TEXT] });
  });

  it('walks every entry, change, message and status of a batch, in order', () => {
    expect(parseMetaCloudWebhook(jsonFixture('meta-cloud.batch.json'))).toEqual({
      ok: true,
      events: [
        EXPECTED_TEXT,
        { kind: 'status', externalId: OUT_1, status: 'delivered', errorCode: null, errorReason: null, at: new Date('2025-06-08T21:00:05.000Z') },
        {
          kind: 'message',
          providerMessageId: 'wamid.HBgMOTY2NTUxMjM0NTY3FQIAEhgUM0E0QjAwMDAwMDAwMDAwMDAwMDEA',
          fromE164: '+966551234567',
          text: 'كم سعر الباقة الشهرية؟',
          senderName: 'سارة',
          receivedAt: new Date('2025-06-08T21:00:20.000Z'),
        },
        { kind: 'ignored', reason: 'non-text message type image' },
        { kind: 'status', externalId: OUT_2, status: 'failed', errorCode: '131026', errorReason: 'Message undeliverable: Message Undeliverable.', at: new Date('2025-06-09T21:00:00.000Z') },
      ],
    });
  });

  it('maps delivered, read and a late 131047 failure', () => {
    expect(parseMetaCloudWebhook(jsonFixture('meta-cloud.statuses.json'))).toEqual({
      ok: true,
      events: [
        { kind: 'status', externalId: OUT_1, status: 'delivered', errorCode: null, errorReason: null, at: new Date('2025-06-08T21:00:05.000Z') },
        { kind: 'status', externalId: OUT_1, status: 'read', errorCode: null, errorReason: null, at: new Date('2025-06-08T21:00:10.000Z') },
        {
          kind: 'status',
          externalId: OUT_2,
          status: 'failed',
          errorCode: '131047',
          errorReason: 'Re-engagement message: Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
          at: new Date('2025-06-09T21:00:00.000Z'),
        },
      ],
    });
  });

  it('maps played to read and ignores unknown statuses', () => {
    const body = fixtureRecord('meta-cloud.statuses.json');
    const statuses = body['entry'][0].changes[0].value.statuses;
    statuses[0].status = 'played';
    statuses[1].status = 'deleted';
    const result = parseMetaCloudWebhook(body);
    expect(result).toMatchObject({ ok: true, events: [{ kind: 'status', status: 'read' }, { kind: 'ignored', reason: 'status deleted is not handled' }, { kind: 'status' }] });
  });

  it('takes the sender name only from the contact whose wa_id matches', () => {
    const body = fixtureRecord('meta-cloud.text.json');
    body['entry'][0].changes[0].value.contacts[0].wa_id = '966599999999';
    expect(parseMetaCloudWebhook(body)).toMatchObject({ ok: true, events: [{ kind: 'message', senderName: null }] });
  });

  it('ignores a sender that is not a phone number (business-scoped id, UNCONFIRMED)', () => {
    const body = fixtureRecord('meta-cloud.text.json');
    body['entry'][0].changes[0].value.messages[0].from = 'SA.bsuid.1a2b3c4d5e';
    expect(parseMetaCloudWebhook(body)).toEqual({ ok: true, events: [{ kind: 'ignored', reason: 'sender is not a phone number (business-scoped user id?)' }] });
  });

  it('reports change-level errors and other fields as ignored', () => {
    const body = fixtureRecord('meta-cloud.text.json');
    const value = body['entry'][0].changes[0].value;
    delete value.messages;
    value.errors = [{ code: 131000, title: 'Something went wrong', error_data: { details: 'Internal error' } }];
    body['entry'][0].changes.push({ field: 'message_template_status_update', value: { event: 'APPROVED' } });
    expect(parseMetaCloudWebhook(body)).toEqual({
      ok: true,
      events: [
        { kind: 'ignored', reason: 'webhook error 131000: Something went wrong: Internal error' },
        { kind: 'ignored', reason: 'change field message_template_status_update is not handled' },
      ],
    });
  });

  it('rejects the malformed fixture naming the exact missing field', () => {
    expect(parseMetaCloudWebhook(jsonFixture('meta-cloud.malformed.json'))).toMatchObject({
      ok: false,
      errors: [{ field: 'entry.0.changes.0.value.messages.0.from' }],
    });
  });

  it('rejects a text message without text.body, a wrong object, and a missing entry', () => {
    const noBody = fixtureRecord('meta-cloud.text.json');
    delete noBody['entry'][0].changes[0].value.messages[0].text;
    expect(parseMetaCloudWebhook(noBody)).toMatchObject({ ok: false, errors: [{ field: 'entry.0.changes.0.value.messages.0.text.body' }] });
    expect(parseMetaCloudWebhook({ object: 'page', entry: [] })).toMatchObject({ ok: false, errors: [{ field: 'object' }] });
    expect(parseMetaCloudWebhook({ object: 'whatsapp_business_account' })).toMatchObject({ ok: false, errors: [{ field: 'entry' }] });
  });
});
