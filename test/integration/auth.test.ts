import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../src/auth/verify-token.ts';
import { AppError } from '../../src/http/app-error.ts';
import { createTestApp, TEST_JWT_SECRET, type TestApp, type TestTenant } from '../support/test-app.ts';

let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTestTenant('auth-a');
});
afterAll(async () => t?.close());

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const hs = (claims: Record<string, unknown>, secret = TEST_JWT_SECRET) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));

async function expect401(token: string, detail?: RegExp) {
  const response = await t.request('GET', '/api/v1/deals', { token });
  expect(response.status).toBe(401);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  expect(response.json.code).toBe('unauthenticated');
  if (detail) expect(response.json.detail).toMatch(detail);
}

describe('bearer JWT (HS256)', () => {
  it('accepts a valid token', async () => {
    const response = await t.request('GET', '/api/v1/deals', { token: await tenant.token('admin') });
    expect(response.status).toBe(200);
  });

  it('refuses a missing or malformed Authorization header', async () => {
    const missing = await t.request('GET', '/api/v1/deals');
    expect(missing.status).toBe(401);
    expect(missing.json.code).toBe('unauthenticated');
    const basic = await t.request('GET', '/api/v1/deals', { headers: { authorization: 'Basic abc' } });
    expect(basic.status).toBe(401);
  });

  it('refuses alg: none', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ tenant_id: tenant.id, sub: tenant.adminId, roles: ['admin'], exp: now + 600 })}.`;
    await expect401(token);
  });

  it('refuses a token signed with another key', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect401(await hs({ tenant_id: tenant.id, sub: tenant.adminId, roles: ['admin'], exp: now + 600 }, 'another-secret-that-is-long-enough-32b'), /signature/);
  });

  it('refuses an expired token', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    await expect401(await hs({ tenant_id: tenant.id, sub: tenant.adminId, roles: ['admin'], iat: past - 60, exp: past }), /expired/);
  });

  it('refuses a token without exp', async () => {
    await expect401(await hs({ tenant_id: tenant.id, sub: tenant.adminId, roles: ['admin'] }));
  });

  it('refuses a token without tenant_id', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect401(await hs({ sub: tenant.adminId, roles: ['admin'], exp: now + 600 }), /tenant_id/);
  });

  it('refuses a token without a known role', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect401(await hs({ tenant_id: tenant.id, sub: tenant.adminId, roles: ['superhero'], exp: now + 600 }), /role/);
  });

  it('refuses a token for a tenant that does not exist', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect401(await hs({ tenant_id: '01a1ff9e-0000-7000-8000-000000000000', sub: tenant.adminId, roles: ['admin'], exp: now + 600 }), /tenant does not exist/);
  });

  it('answers 403 to a role the route does not allow, and writes nothing', async () => {
    const before = await t.superuser.query('SELECT count(*)::int AS n FROM contacts');
    const executive = await tenant.token('executive');
    const response = await t.request('POST', '/api/v1/contacts', { token: executive, body: { phone: '0551230000' } });
    expect(response.status).toBe(403);
    expect(response.json.code).toBe('forbidden');
    const after = await t.superuser.query('SELECT count(*)::int AS n FROM contacts');
    expect(after.rows[0].n).toBe(before.rows[0].n);
    // The executive may read.
    expect((await t.request('GET', '/api/v1/deals', { token: executive })).status).toBe(200);
    // A system (worker) token is no human login: no API route is open to it.
    expect((await t.request('GET', '/api/v1/deals', { token: await tenant.token('system') })).status).toBe(403);
  });
});

describe('bearer JWT from an OIDC provider (JWKS)', () => {
  let jwksServer: Server;
  let jwksUrl: string;
  type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  const keys: Record<string, { privateKey: PrivateKey; kid: string }> = {};

  beforeAll(async () => {
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const ed = await generateKeyPair('EdDSA', { extractable: true });
    keys.RS256 = { privateKey: rsa.privateKey, kid: 'rsa-1' };
    keys.EdDSA = { privateKey: ed.privateKey, kid: 'ed-1' };
    const jwks = {
      keys: [
        { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
        { ...(await exportJWK(ed.publicKey)), kid: 'ed-1', alg: 'EdDSA', use: 'sig' },
      ],
    };
    jwksServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => jwksServer.close(() => resolve())));

  const sign = (alg: 'RS256' | 'EdDSA', claims: Record<string, unknown>, issuer = 'https://idp.example') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg, kid: keys[alg]?.kid ?? '' })
      .setIssuer(issuer)
      .setAudience('dealix')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(keys[alg]?.privateKey as PrivateKey);

  for (const alg of ['RS256', 'EdDSA'] as const) {
    it(`verifies ${alg} tokens against the provider's keys`, async () => {
      const verifier = createTokenVerifier({ mode: 'jwks', jwksUrl, issuer: 'https://idp.example', audience: 'dealix' }, undefined);
      const auth = await verifier.verify(await sign(alg, { tenant_id: tenant.id, sub: 'user-1', roles: ['sales_manager', 'unknown-idp-role'] }));
      expect(auth).toEqual({ tenantId: tenant.id, sub: 'user-1', roles: ['sales_manager'] });
    });
  }

  it('refuses a wrong issuer and an HS256 token in JWKS mode', async () => {
    const verifier = createTokenVerifier({ mode: 'jwks', jwksUrl, issuer: 'https://idp.example', audience: 'dealix' }, undefined);
    await expect(verifier.verify(await sign('RS256', { tenant_id: tenant.id, sub: 'u', roles: ['admin'] }, 'https://evil.example'))).rejects.toBeInstanceOf(AppError);
    await expect(verifier.verify(await tenant.token('admin'))).rejects.toMatchObject({ code: 'unauthenticated' });
  });
});
