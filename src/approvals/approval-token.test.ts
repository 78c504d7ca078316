import { createHash, createHmac } from 'node:crypto';
import canonicalize from 'canonicalize';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../http/app-error.ts';
import {
  APPROVAL_TOKEN_TYPE,
  ApprovalTokenError,
  generateSigningKey,
  mintApprovalToken,
  payloadSha256,
  readTokenKid,
  verifyApprovalToken,
  type ApprovalTokenErrorReason,
  type MintApprovalTokenOptions,
  type SigningKey,
} from './approval-token.ts';

const tenantId = '0190a0b2-7c1e-7000-8000-000000000001';
const otherTenantId = '0190a0b2-7c1e-7000-8000-000000000002';
const action = 'whatsapp.send_template';
const payload = { to: '+966500000001', template: 'intro_ar', variables: { name: 'نورة', amount: 1500 } };
const now = new Date('2030-01-01T12:00:00.000Z');
const inFifteenMinutes = new Date(now.getTime() + 15 * 60_000);

let key: SigningKey;
let otherTenantKey: SigningKey;

beforeAll(async () => {
  [key, otherTenantKey] = await Promise.all([generateSigningKey(), generateSigningKey()]);
});

function mint(overrides: Partial<MintApprovalTokenOptions> = {}) {
  return mintApprovalToken({
    privateJwk: key.privateJwk,
    kid: key.kid,
    tenantId,
    action,
    payloadSha256: payloadSha256(payload),
    approver: 'user-42',
    approvalRequestId: 'req-1',
    expiresAt: inFifteenMinutes,
    now,
    ...overrides,
  });
}

function verify(token: string, overrides: Partial<Parameters<typeof verifyApprovalToken>[0]> = {}) {
  return verifyApprovalToken({
    token,
    publicJwk: key.publicJwk,
    tenantId,
    action,
    payloadSha256: payloadSha256(payload),
    now,
    ...overrides,
  });
}

async function expectRefused(promise: Promise<unknown>, reasons: ApprovalTokenErrorReason | ApprovalTokenErrorReason[]): Promise<ApprovalTokenError> {
  const error = await promise.then(
    () => expect.fail('expected the token to be refused'),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApprovalTokenError);
  expect([reasons].flat()).toContain((error as ApprovalTokenError).reason);
  return error as ApprovalTokenError;
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('payloadSha256', () => {
  it('is the hex SHA-256 of the RFC 8785 canonical JSON', () => {
    const expected = createHash('sha256').update('{"a":1,"b":[true,null,"x"]}').digest('hex');
    expect(payloadSha256({ b: [true, null, 'x'], a: 1 })).toBe(expected);
    expect(payloadSha256(payload)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on key order, at any depth', () => {
    const reordered = { variables: { amount: 1500, name: 'نورة' }, template: 'intro_ar', to: '+966500000001' };
    expect(payloadSha256(reordered)).toBe(payloadSha256(payload));
  });

  it('ignores a top-level _correlation_id', () => {
    expect(payloadSha256({ ...payload, _correlation_id: 'corr-1' })).toBe(payloadSha256(payload));
    expect(payloadSha256({ _correlation_id: 'corr-2', ...payload })).toBe(payloadSha256({ ...payload, _correlation_id: 'corr-1' }));
  });

  it('hashes a nested _correlation_id like any other data', () => {
    const nested = { ...payload, variables: { ...payload.variables, _correlation_id: 'corr-1' } };
    expect(payloadSha256(nested)).not.toBe(payloadSha256(payload));
  });

  it('changes with any other key or value', () => {
    const base = payloadSha256(payload);
    expect(payloadSha256({ ...payload, correlation_id: 'corr-1' })).not.toBe(base);
    expect(payloadSha256({ ...payload, _trace: 'x' })).not.toBe(base);
    expect(payloadSha256({ ...payload, to: '+966500000002' })).not.toBe(base);
    expect(payloadSha256({ ...payload, variables: { ...payload.variables, amount: 1501 } })).not.toBe(base);
    expect(payloadSha256({ ...payload, variables: { ...payload.variables, amount: '1500' } })).not.toBe(base);
    const { template: _template, ...withoutTemplate } = payload;
    expect(payloadSha256(withoutTemplate)).not.toBe(base);
  });

  it('leaves the caller object untouched and handles non-object payloads', () => {
    const withCorrelation = { ...payload, _correlation_id: 'corr-1' };
    payloadSha256(withCorrelation);
    expect(withCorrelation._correlation_id).toBe('corr-1');
    expect(payloadSha256([1, 2])).toBe(createHash('sha256').update('[1,2]').digest('hex'));
    expect(payloadSha256('x')).toBe(createHash('sha256').update(canonicalize('x') ?? '').digest('hex'));
    expect(payloadSha256(null)).toBe(createHash('sha256').update('null').digest('hex'));
  });

  it('refuses values that are not JSON', () => {
    expect(() => payloadSha256(undefined)).toThrow(TypeError);
    expect(() => payloadSha256({ amount: Number.NaN })).toThrow(TypeError);
    expect(() => payloadSha256({ amount: Number.POSITIVE_INFINITY })).toThrow(TypeError);
  });
});

describe('generateSigningKey', () => {
  it('returns an Ed25519 pair with a random url-safe kid', async () => {
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(key.kid).not.toBe(otherTenantKey.kid);
    expect(key.publicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: key.kid, alg: 'EdDSA', use: 'sig' });
    expect(key.publicJwk).not.toHaveProperty('d');
    expect(key.privateJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: key.kid, x: key.publicJwk.x });
    expect(typeof key.privateJwk.d).toBe('string');
  });
});

describe('mintApprovalToken', () => {
  it('produces a compact JWS with the documented header and claims', async () => {
    const { token, tokenId } = await mint({ standingApprovalId: 'sa-1' });
    expect(tokenId).toMatch(/^[0-9a-f-]{36}$/);
    const [header, claims, signature] = token.split('.');
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString())).toEqual({ alg: 'EdDSA', kid: key.kid, typ: APPROVAL_TOKEN_TYPE });
    expect(JSON.parse(Buffer.from(claims ?? '', 'base64url').toString())).toEqual({
      tid: tenantId,
      act: action,
      psh: payloadSha256(payload),
      apr: 'user-42',
      arq: 'req-1',
      sap: 'sa-1',
      jti: tokenId,
      iat: now.getTime() / 1000,
      exp: inFifteenMinutes.getTime() / 1000,
    });
    expect(Buffer.from(signature ?? '', 'base64url')).toHaveLength(64);
  });

  it('uses the given token id and a fresh UUID otherwise', async () => {
    expect((await mint({ tokenId: 'tok-given' })).tokenId).toBe('tok-given');
    const [first, second] = await Promise.all([mint(), mint()]);
    expect(first.tokenId).not.toBe(second.tokenId);
  });

  it('rounds the expiry down to the whole second', async () => {
    const { token } = await mint({ expiresAt: new Date(inFifteenMinutes.getTime() + 999) });
    expect((await verify(token)).expiresAt).toEqual(inFifteenMinutes);
  });

  it('refuses invalid options', async () => {
    await expect(mint({ expiresAt: now })).rejects.toThrow(/expiresAt/);
    await expect(mint({ expiresAt: new Date(Number.NaN) })).rejects.toThrow(/valid dates/);
    await expect(mint({ payloadSha256: 'abc' })).rejects.toThrow(/payloadSha256/);
    await expect(mint({ tenantId: '' })).rejects.toThrow(/tenantId/);
    await expect(mint({ kid: otherTenantKey.kid })).rejects.toThrow(/kid does not match/);
    await expect(mint({ privateJwk: key.publicJwk })).rejects.toThrow(/private JWK/);
  });
});

describe('readTokenKid', () => {
  it('reads the kid without verifying', async () => {
    const { token } = await mint();
    expect(readTokenKid(token)).toBe(key.kid);
    // Even a token whose signature is garbage: the kid only selects the key to verify with.
    expect(readTokenKid(`${token.split('.').slice(0, 2).join('.')}.AAAA`)).toBe(key.kid);
  });

  it.each([
    ['empty', ''],
    ['random text', 'not a token'],
    ['two parts', 'eyJhbGciOiJFZERTQSJ9.e30'],
    ['header not JSON', `${Buffer.from('nope').toString('base64url')}.e30.AAAA`],
    ['no kid', `${base64urlJson({ alg: 'EdDSA' })}.e30.AAAA`],
    ['numeric kid', `${base64urlJson({ alg: 'EdDSA', kid: 7 })}.e30.AAAA`],
    ['empty kid', `${base64urlJson({ alg: 'EdDSA', kid: '' })}.e30.AAAA`],
    ['huge kid', `${base64urlJson({ alg: 'EdDSA', kid: 'k'.repeat(300) })}.e30.AAAA`],
  ])('returns undefined for %s', (_label, token) => {
    expect(readTokenKid(token)).toBeUndefined();
  });
});

describe('verifyApprovalToken', () => {
  it('accepts a valid token and returns what it grants', async () => {
    const { token, tokenId } = await mint();
    await expect(verify(token)).resolves.toEqual({
      tokenId,
      approver: 'user-42',
      approvalRequestId: 'req-1',
      expiresAt: inFifteenMinutes,
    });
  });

  it('returns the standing approval id and omits absent optional ids', async () => {
    const { token } = await mint({ approvalRequestId: undefined, standingApprovalId: 'sa-9' });
    const approval = await verify(token);
    expect(approval.standingApprovalId).toBe('sa-9');
    expect(approval).not.toHaveProperty('approvalRequestId');
  });

  it('binds the payload, not the correlation id the gateway adds', async () => {
    const { token } = await mint();
    await expect(verify(token, { payloadSha256: payloadSha256({ ...payload, _correlation_id: 'exec-request' }) })).resolves.toBeDefined();
  });

  it('accepts the payload hash in upper case', async () => {
    const { token } = await mint();
    await expect(verify(token, { payloadSha256: payloadSha256(payload).toUpperCase() })).resolves.toBeDefined();
  });

  it('refuses a payload that differs by one character (wrong_payload)', async () => {
    const { token } = await mint();
    const changed = { ...payload, to: '+966500000007' };
    const error = await expectRefused(verify(token, { payloadSha256: payloadSha256(changed) }), 'wrong_payload');
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe('forbidden');
    expect(error.extra).toEqual({ reason: 'wrong_payload' });
  });

  it('refuses another action (wrong_action)', async () => {
    const { token } = await mint();
    await expectRefused(verify(token, { action: 'email.send' }), 'wrong_action');
  });

  it('refuses another tenant (wrong_tenant)', async () => {
    const { token } = await mint();
    await expectRefused(verify(token, { tenantId: otherTenantId }), 'wrong_tenant');
  });

  it('refuses an expired token, with no clock tolerance', async () => {
    const { token } = await mint();
    await expect(verify(token, { now: new Date(inFifteenMinutes.getTime() - 1) })).resolves.toBeDefined();
    await expectRefused(verify(token, { now: inFifteenMinutes }), 'expired');
    await expectRefused(verify(token, { now: new Date(inFifteenMinutes.getTime() + 1000) }), 'expired');
  });

  it('checks the wall clock when no time is given', async () => {
    const { token } = await mintApprovalToken({
      privateJwk: key.privateJwk, kid: key.kid, tenantId, action, payloadSha256: payloadSha256(payload),
      approver: 'user-42', expiresAt: new Date(Date.now() - 60_000), now: new Date(Date.now() - 120_000),
    });
    await expectRefused(verify(token, { now: undefined }), 'expired');
  });

  it("refuses a token signed with another tenant's key (bad_signature)", async () => {
    const { token } = await mint({ privateJwk: otherTenantKey.privateJwk, kid: otherTenantKey.kid });
    await expectRefused(verify(token), 'bad_signature');
  });

  it('refuses a token with any single character changed', async () => {
    const { token } = await mint();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // Every position: header, claims, signature; the replacement is a different base64url character.
    for (let index = 0; index < token.length; index++) {
      const current = token[index] ?? '';
      if (current === '.') continue;
      const replacement = alphabet[(alphabet.indexOf(current) + 1) % alphabet.length] ?? 'A';
      const tampered = token.slice(0, index) + replacement + token.slice(index + 1);
      await expectRefused(verify(tampered), ['bad_signature', 'malformed']);
    }
  });

  it('refuses a tampered claim re-encoded with the original signature', async () => {
    const { token } = await mint();
    const [header, claims, signature] = token.split('.');
    const forged = { ...JSON.parse(Buffer.from(claims ?? '', 'base64url').toString()), tid: otherTenantId };
    await expectRefused(verify([header, base64urlJson(forged), signature].join('.'), { tenantId: otherTenantId }), 'bad_signature');
  });

  it('refuses garbage as malformed', async () => {
    for (const garbage of ['', 'x', 'a.b', 'a.b.c', 'a.b.c.d.e', '...']) {
      await expectRefused(verify(garbage), ['malformed', 'bad_signature']);
    }
    await expectRefused(verify(42 as unknown as string), 'malformed');
  });

  it('refuses an HS256 token, even one keyed with the public key bytes', async () => {
    const claims = { tid: tenantId, act: action, psh: payloadSha256(payload), apr: 'user-42', jti: 'j', iat: 0, exp: 4102444800 };
    // The classic algorithm-confusion attack: HMAC keyed with the (public) x coordinate.
    const hsToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: APPROVAL_TOKEN_TYPE })
      .sign(Buffer.from(key.publicJwk.x ?? '', 'base64url'));
    await expectRefused(verify(hsToken), 'bad_signature');

    const signingInput = `${base64urlJson({ alg: 'HS256', kid: key.kid, typ: APPROVAL_TOKEN_TYPE })}.${base64urlJson(claims)}`;
    const hmac = createHmac('sha256', JSON.stringify(key.publicJwk)).update(signingInput).digest('base64url');
    await expectRefused(verify(`${signingInput}.${hmac}`), 'bad_signature');
  });

  it('refuses alg none', async () => {
    const claims = { tid: tenantId, act: action, psh: payloadSha256(payload), apr: 'user-42', jti: 'j', iat: 0, exp: 4102444800 };
    for (const alg of ['none', 'None', 'NONE']) {
      const unsigned = `${base64urlJson({ alg, kid: key.kid, typ: APPROVAL_TOKEN_TYPE })}.${base64urlJson(claims)}.`;
      await expectRefused(verify(unsigned), 'malformed');
      // With a signature-shaped last segment, so the refusal comes from the algorithm allow-list.
      await expectRefused(verify(`${unsigned}${Buffer.alloc(64, 1).toString('base64url')}`), 'bad_signature');
    }
  });

  it('refuses a non-canonical encoding of a valid token (no malleable token strings)', async () => {
    const { token } = await mint();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // A 64-byte signature leaves 4 unused bits in its last character; setting one keeps the bytes.
    const last = token.at(-1) ?? 'A';
    const malleated = token.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1];
    expect(Buffer.from(malleated.split('.')[2] ?? '', 'base64url')).toEqual(Buffer.from(token.split('.')[2] ?? '', 'base64url'));
    await expectRefused(verify(malleated), 'malformed');
    await expectRefused(verify(`${token}=`), 'malformed');
    await expectRefused(verify(` ${token}`), 'malformed');
  });

  it('refuses a properly signed JWT of another type (wrong_type)', async () => {
    const claims = { tid: tenantId, act: action, psh: payloadSha256(payload), apr: 'user-42', jti: 'j', iat: 0, exp: 4102444800 };
    for (const typ of ['JWT', 'at+jwt', undefined]) {
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, ...(typ === undefined ? {} : { typ }) })
        .sign(key.privateJwk);
      await expectRefused(verify(token), 'wrong_type');
    }
  });

  it('accepts the typ in its RFC 7515 equivalent spellings', async () => {
    const claims = { tid: tenantId, act: action, psh: payloadSha256(payload), apr: 'user-42', jti: 'j', iat: 0, exp: 4102444800 };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: `application/${APPROVAL_TOKEN_TYPE.toUpperCase()}` })
      .sign(key.privateJwk);
    await expect(verify(token)).resolves.toMatchObject({ tokenId: 'j' });
  });

  it('refuses a validly signed token whose claims are not ours (malformed)', async () => {
    const complete = { tid: tenantId, act: action, psh: payloadSha256(payload), apr: 'user-42', jti: 'j', iat: 0, exp: 4102444800 };
    const { exp: _exp, ...withoutExp } = complete;
    const { jti: _jti, ...withoutJti } = complete;
    for (const claims of [withoutExp, withoutJti, { ...complete, psh: 'ABC' }, { ...complete, exp: '4102444800' }, { ...complete, tid: 7 }]) {
      const token = await new SignJWT(claims as Record<string, unknown>)
        .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: APPROVAL_TOKEN_TYPE })
        .sign(key.privateJwk);
      await expectRefused(verify(token), 'malformed');
    }
  });

  it('checks tenant before action, payload and expiry', async () => {
    const { token } = await mint();
    const late = new Date(inFifteenMinutes.getTime() + 60_000);
    await expectRefused(verify(token, { tenantId: otherTenantId, action: 'x', payloadSha256: '0'.repeat(64), now: late }), 'wrong_tenant');
    await expectRefused(verify(token, { action: 'x', payloadSha256: '0'.repeat(64), now: late }), 'wrong_action');
    await expectRefused(verify(token, { payloadSha256: '0'.repeat(64), now: late }), 'wrong_payload');
  });

  it('verifies with only the public members of the JWK (a private JWK passed by mistake still works)', async () => {
    const { token } = await mint();
    await expect(verify(token, { publicJwk: key.privateJwk })).resolves.toBeDefined();
    await expect(verify(token, { publicJwk: { ...key.publicJwk, alg: 'HS256' } })).resolves.toBeDefined();
  });

  it('throws a plain Error (not a token refusal) for a key that is not Ed25519', async () => {
    const { token } = await mint();
    const error = await verify(token, { publicJwk: { kty: 'oct', k: 'AAAA' } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ApprovalTokenError);
  });
});
