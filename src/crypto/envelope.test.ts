import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EnvelopeError, openSecret, parseMasterKey, sealSecret } from './envelope.ts';

const masterKey = randomBytes(32);
const aad = 'tenant:0190a0b2-7c1e-7000-8000-000000000001:kid:k1';

/** Replaces the character at `index` with a different one from the same alphabet. */
function flipChar(value: string, index: number): string {
  const current = value[index];
  const replacement = current === 'A' ? 'B' : 'A';
  return value.slice(0, index) + replacement + value.slice(index + 1);
}

function expectEnvelopeError(run: () => unknown, reason: EnvelopeError['reason']): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(EnvelopeError);
    expect((error as EnvelopeError).reason).toBe(reason);
    return;
  }
  expect.fail(`expected EnvelopeError(${reason})`);
}

describe('parseMasterKey', () => {
  const key = randomBytes(32);

  it('accepts 64 hex characters in either case', () => {
    expect(parseMasterKey(key.toString('hex'))).toEqual(key);
    expect(parseMasterKey(key.toString('hex').toUpperCase())).toEqual(key);
  });

  it('accepts base64 with and without padding, and base64url with and without padding', () => {
    const base64 = key.toString('base64');
    const base64url = key.toString('base64url');
    expect(base64).toHaveLength(44);
    expect(base64url).toHaveLength(43);
    expect(parseMasterKey(base64)).toEqual(key);
    expect(parseMasterKey(base64.replace(/=$/, ''))).toEqual(key);
    expect(parseMasterKey(base64url)).toEqual(key);
    expect(parseMasterKey(`${base64url}=`)).toEqual(key);
  });

  it('decodes keys that need both alphabets correctly', () => {
    // 0xfb 0xff … encodes to '+/' in base64 and '-_' in base64url.
    const tricky = Buffer.alloc(32, 0xfb);
    tricky[1] = 0xff;
    expect(tricky.toString('base64')).toMatch(/[+/]/);
    expect(tricky.toString('base64url')).toMatch(/[-_]/);
    expect(parseMasterKey(tricky.toString('base64'))).toEqual(tricky);
    expect(parseMasterKey(tricky.toString('base64url'))).toEqual(tricky);
  });

  it('ignores surrounding whitespace (a trailing newline from a secrets file)', () => {
    expect(parseMasterKey(`  ${key.toString('base64url')}\n`)).toEqual(key);
  });

  it.each([
    ['empty', ''],
    ['too short hex', 'ab'.repeat(31)],
    ['too long hex', 'ab'.repeat(33)],
    ['16-byte base64', randomBytes(16).toString('base64')],
    ['48-byte base64', randomBytes(48).toString('base64')],
    ['a passphrase', 'correct horse battery staple'],
    ['mixed base64 alphabets', `+_${'A'.repeat(41)}`],
    ['stray character', `${'A'.repeat(42)}*`],
  ])('refuses %s', (_label, raw) => {
    expect(() => parseMasterKey(raw)).toThrow(/master key must be 32 bytes/);
  });

  it('refuses non-canonical base64 whose last character carries extra bits', () => {
    const canonical = Buffer.alloc(32, 7).toString('base64url');
    const lastIndex = canonical.length - 1;
    // Adding 1 to the last sextet sets one of the two bits that fall outside the 32 bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const nonCanonical = canonical.slice(0, lastIndex) + alphabet[alphabet.indexOf(canonical[lastIndex] ?? 'A') + 1];
    expect(Buffer.from(nonCanonical, 'base64url')).toEqual(Buffer.alloc(32, 7));
    expect(() => parseMasterKey(nonCanonical)).toThrow(/master key/);
  });

  it('refuses an all-zero placeholder key', () => {
    expect(() => parseMasterKey('0'.repeat(64))).toThrow(/all zeros/);
  });

  it('never echoes the value in its error message', () => {
    const secretLooking = `sk_live_${'x'.repeat(40)}`;
    expect(() => parseMasterKey(secretLooking)).toThrow();
    try {
      parseMasterKey(secretLooking);
    } catch (error) {
      expect((error as Error).message).not.toContain('sk_live');
    }
  });
});

describe('sealSecret / openSecret', () => {
  it('round-trips strings and binary data', () => {
    const text = '{"kty":"OKP","crv":"Ed25519","d":"…"} — مفتاح';
    expect(openSecret(masterKey, sealSecret(masterKey, text, aad), aad).toString('utf8')).toBe(text);
    const binary = randomBytes(1000);
    expect(openSecret(masterKey, sealSecret(masterKey, binary, aad), aad)).toEqual(binary);
  });

  it('round-trips an empty secret', () => {
    const sealed = sealSecret(masterKey, '', aad);
    expect(sealed.split('.')[2]).toBe('');
    expect(openSecret(masterKey, sealed, aad)).toEqual(Buffer.alloc(0));
  });

  it('produces v1.<iv>.<ciphertext>.<tag> with a 12-byte IV and a 16-byte tag', () => {
    const sealed = sealSecret(masterKey, 'hello', aad);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/);
    const [, iv, ciphertext, tag] = sealed.split('.');
    expect(Buffer.from(iv ?? '', 'base64url')).toHaveLength(12);
    expect(Buffer.from(ciphertext ?? '', 'base64url')).toHaveLength(5);
    expect(Buffer.from(tag ?? '', 'base64url')).toHaveLength(16);
    expect(sealed).not.toContain('hello');
  });

  it('uses a fresh IV every time, so equal plaintexts seal differently', () => {
    const sealedValues = Array.from({ length: 200 }, () => sealSecret(masterKey, 'same secret', aad));
    const ivs = new Set(sealedValues.map((sealed) => sealed.split('.')[1]));
    expect(ivs.size).toBe(sealedValues.length);
    expect(new Set(sealedValues).size).toBe(sealedValues.length);
  });

  describe('refuses a tampered value', () => {
    const sealed = sealSecret(masterKey, 'a secret worth protecting', aad);
    const parts = sealed.split('.');

    it.each([
      ['iv', 1],
      ['ciphertext', 2],
      ['tag', 3],
    ])('with one character of the %s changed, at every position', (_label, partIndex) => {
      const part = parts[partIndex] ?? '';
      for (let index = 0; index < part.length; index++) {
        const tampered = parts.map((value, i) => (i === partIndex ? flipChar(value, index) : value)).join('.');
        // A change confined to the unused low bits of the last character is caught as malformed;
        // every other change fails authentication. Either way nothing is returned.
        expect(() => openSecret(masterKey, tampered, aad)).toThrow(EnvelopeError);
      }
    });

    it('with the ciphertext bits flipped (authentication failure, not garbage plaintext)', () => {
      const ciphertext = Buffer.from(parts[2] ?? '', 'base64url');
      ciphertext[0] = (ciphertext[0] ?? 0) ^ 0x01;
      const tampered = [parts[0], parts[1], ciphertext.toString('base64url'), parts[3]].join('.');
      expectEnvelopeError(() => openSecret(masterKey, tampered, aad), 'authentication_failed');
    });

    it('with a changed version', () => {
      expectEnvelopeError(() => openSecret(masterKey, ['v2', ...parts.slice(1)].join('.'), aad), 'unsupported_version');
      expectEnvelopeError(() => openSecret(masterKey, ['V1', ...parts.slice(1)].join('.'), aad), 'unsupported_version');
    });

    it('with a truncated tag (Node would otherwise accept short GCM tags)', () => {
      const shortTag = Buffer.from(parts[3] ?? '', 'base64url').subarray(0, 4).toString('base64url');
      expectEnvelopeError(() => openSecret(masterKey, [...parts.slice(0, 3), shortTag].join('.'), aad), 'malformed');
    });

    it('with parts swapped, dropped or appended', () => {
      expect(() => openSecret(masterKey, [parts[0], parts[2], parts[1], parts[3]].join('.'), aad)).toThrow(EnvelopeError);
      expectEnvelopeError(() => openSecret(masterKey, parts.slice(0, 3).join('.'), aad), 'malformed');
      expectEnvelopeError(() => openSecret(masterKey, `${sealed}.AAAA`, aad), 'malformed');
      expectEnvelopeError(() => openSecret(masterKey, '', aad), 'malformed');
      expectEnvelopeError(() => openSecret(masterKey, 'not a sealed value', aad), 'malformed');
    });

    it('with characters outside base64url (which Node would silently skip)', () => {
      expectEnvelopeError(() => openSecret(masterKey, [parts[0], `${parts[1]}!`, parts[2], parts[3]].join('.'), aad), 'malformed');
      expectEnvelopeError(() => openSecret(masterKey, [parts[0], parts[1], parts[2], `${parts[3]}==`].join('.'), aad), 'malformed');
    });
  });

  it('refuses a value sealed for another row (different associated data)', () => {
    const sealed = sealSecret(masterKey, 'secret', aad);
    expectEnvelopeError(() => openSecret(masterKey, sealed, 'tenant:0190a0b2-7c1e-7000-8000-000000000002:kid:k1'), 'authentication_failed');
    expectEnvelopeError(() => openSecret(masterKey, sealed, `${aad}x`), 'authentication_failed');
  });

  it('refuses to open with a different master key', () => {
    const sealed = sealSecret(masterKey, 'secret', aad);
    expectEnvelopeError(() => openSecret(randomBytes(32), sealed, aad), 'authentication_failed');
  });

  it('refuses keys that are not 32 bytes and empty associated data', () => {
    expect(() => sealSecret(randomBytes(16), 'secret', aad)).toThrow(/32 bytes/);
    expect(() => openSecret(randomBytes(31), 'v1.a.b.c', aad)).toThrow(/32 bytes/);
    expect(() => sealSecret(masterKey, 'secret', '')).toThrow(/associatedData/);
    expect(() => openSecret(masterKey, sealSecret(masterKey, 'secret', aad), '')).toThrow(/associatedData/);
  });

  it('keeps plaintext and key material out of error messages', () => {
    const sealed = sealSecret(masterKey, 'hunter2', aad);
    try {
      openSecret(randomBytes(32), sealed, aad);
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
      expect((error as Error).message).not.toContain(sealed.split('.')[2]);
    }
  });
});
