import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rawFixture } from '../../../test/fixtures/whatsapp-webhooks/load-fixture.ts';
import { constantTimeEqual, verifyFonnteSecret, verifyGreenApiAuthorization, verifyMetaHandshake, verifyMetaSignature } from './verify-webhook.ts';

const APP_SECRET = 'test-app-secret-0f3c9a';

function sign(bytes: Uint8Array, secret = APP_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(bytes).digest('hex')}`;
}

describe('constantTimeEqual', () => {
  it('compares by value, whatever the lengths', () => {
    expect(constantTimeEqual('s3cret', 's3cret')).toBe(true);
    expect(constantTimeEqual('s3cret', 's3creT')).toBe(false);
    expect(constantTimeEqual('s3cret', 's3cret-and-more')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });
});

describe('verifyMetaSignature', () => {
  const rawBody = rawFixture('meta-cloud.text-escaped.json');
  const header = sign(rawBody);

  it('the escaped fixture really holds \\u escapes and no raw Arabic bytes', () => {
    expect(rawBody.toString('latin1')).toContain('\\u0623\\u0628\\u063a\\u0649');
    expect(rawBody.every((byte) => byte < 0x80)).toBe(true);
  });

  it('accepts a signature over the exact raw bytes, in lower- or uppercase hex', () => {
    expect(verifyMetaSignature({ rawBody, header, appSecret: APP_SECRET })).toBe(true);
    expect(verifyMetaSignature({ rawBody, header: `sha256=${header.slice('sha256='.length).toUpperCase()}`, appSecret: APP_SECRET })).toBe(true);
    expect(verifyMetaSignature({ rawBody: new Uint8Array(rawBody), header, appSecret: APP_SECRET })).toBe(true);
  });

  it('rejects the body with one byte changed', () => {
    const tampered = Buffer.from(rawBody);
    const index = tampered.indexOf('966512345678');
    tampered[index + 11] = '9'.charCodeAt(0);
    expect(tampered.equals(rawBody)).toBe(false);
    expect(verifyMetaSignature({ rawBody: tampered, header, appSecret: APP_SECRET })).toBe(false);
  });

  it('rejects re-serialized JSON: JSON.stringify un-escapes the Arabic, so the bytes differ', () => {
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(rawBody.toString('utf8'))), 'utf8');
    expect(reserialized.toString('utf8')).toContain('أبغى أعرف الأسعار');
    expect(verifyMetaSignature({ rawBody: reserialized, header, appSecret: APP_SECRET })).toBe(false);
  });

  it('rejects a missing, malformed or wrongly keyed signature and an empty secret', () => {
    const hex = header.slice('sha256='.length);
    for (const bad of [undefined, '', hex, `sha1=${hex}`, `sha256=${hex.slice(0, 63)}`, `sha256=${hex}00`, `sha256=${'z'.repeat(64)}`, 'sha256=']) {
      expect(verifyMetaSignature({ rawBody, header: bad, appSecret: APP_SECRET })).toBe(false);
    }
    expect(verifyMetaSignature({ rawBody, header: sign(rawBody, 'another-secret'), appSecret: APP_SECRET })).toBe(false);
    // An empty app secret must fail closed, even for a signature an attacker made with the empty key.
    expect(verifyMetaSignature({ rawBody, header: sign(rawBody, ''), appSecret: '' })).toBe(false);
  });
});

describe('verifyMetaHandshake', () => {
  const valid = { mode: 'subscribe', verifyToken: 'verify-me-7Hq', challenge: '1158201444', expectedToken: 'verify-me-7Hq' };

  it('returns the challenge for subscribe with the right token', () => {
    expect(verifyMetaHandshake(valid)).toEqual({ ok: true, challenge: '1158201444' });
  });

  it.each([
    ['wrong token', { verifyToken: 'verify-me-7Hx' }],
    ['missing token', { verifyToken: undefined }],
    ['wrong mode', { mode: 'unsubscribe' }],
    ['missing mode', { mode: undefined }],
    ['missing challenge', { challenge: undefined }],
    ['markup challenge', { challenge: '<script>alert(1)</script> ' }],
    ['empty configured token', { verifyToken: '', expectedToken: '' }],
  ])('refuses: %s', (_label, change) => {
    expect(verifyMetaHandshake({ ...valid, ...change })).toEqual({ ok: false });
  });
});

describe('verifyGreenApiAuthorization', () => {
  const expectedToken = 'gapi-webhook-token-41c2';

  it.each([`Bearer ${expectedToken}`, `Basic ${expectedToken}`, `bearer   ${expectedToken}`, expectedToken, `  Bearer ${expectedToken}  `])('accepts %j', (header) => {
    expect(verifyGreenApiAuthorization({ header, expectedToken })).toBe(true);
  });

  it.each([undefined, '', 'Bearer', `Bearer ${expectedToken}x`, `Bearer wrong`, `Bearer ${expectedToken} extra`, `${expectedToken.slice(0, -1)}`])('refuses %j', (header) => {
    expect(verifyGreenApiAuthorization({ header, expectedToken })).toBe(false);
  });

  it('refuses everything when no token is configured', () => {
    expect(verifyGreenApiAuthorization({ header: 'Bearer ', expectedToken: '' })).toBe(false);
    expect(verifyGreenApiAuthorization({ header: '', expectedToken: '' })).toBe(false);
  });
});

describe('verifyFonnteSecret (field name UNCONFIRMED)', () => {
  const expectedSecret = 'fonnte-s3cret-9d';

  it('accepts the secret from the header or the body field', () => {
    expect(verifyFonnteSecret({ header: expectedSecret, body: {}, expectedSecret })).toBe(true);
    expect(verifyFonnteSecret({ header: undefined, body: { sender: '966512345678', secret: expectedSecret }, expectedSecret })).toBe(true);
  });

  it('refuses a wrong or missing secret, and everything when none is configured', () => {
    expect(verifyFonnteSecret({ header: 'wrong', body: { secret: 'wrong' }, expectedSecret })).toBe(false);
    expect(verifyFonnteSecret({ header: undefined, body: { sender: '966512345678' }, expectedSecret })).toBe(false);
    expect(verifyFonnteSecret({ header: undefined, body: { secret: 12345 }, expectedSecret })).toBe(false);
    expect(verifyFonnteSecret({ header: undefined, body: 'secret', expectedSecret })).toBe(false);
    expect(verifyFonnteSecret({ header: '', body: { secret: '' }, expectedSecret: '' })).toBe(false);
  });
});
