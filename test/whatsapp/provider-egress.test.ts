import type net from 'node:net';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiUrlProblem, createProviderEgress, isPublicAddress } from '../../src/whatsapp/outbound/providers/egress.ts';
import { createFonnteProvider, createGreenApiProvider } from '../../src/whatsapp/outbound/providers/index.ts';
import { startFakeGreenApi, type FakeGreenApi } from '../support/fake-whatsapp/index.ts';

/**
 * Issue 9 item 6: where a provider adapter may send. The fake stands for whatever listens on this
 * machine's loopback (an admin port, a metadata proxy): it must never be called, and its answer
 * must never reach a reason.
 */
const INTERNAL = 'INTERNAL-ANSWER-7f3a';
let fake: FakeGreenApi;
let port: string;

beforeAll(async () => {
  fake = await startFakeGreenApi({ instanceId: '1101000001', token: 'green-token' });
  port = new URL(fake.url).port;
});
afterAll(async () => {
  await fake?.close();
});

const outbound = () => ({ to: '+966512345678', text: 'مرحبا', idempotencyKey: 'k-1', outboundId: 'o-1' });
/** A resolver that answers every name with these addresses. */
const resolvingTo =
  (...addresses: string[]): net.LookupFunction =>
  (_hostname, options, callback) => {
    const list = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    if (options.all) callback(null, list);
    else callback(null, list[0]?.address ?? '', list[0]?.family);
  };

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '0.0.0.0',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '100.100.100.200',
    '169.254.169.254',
    '192.0.0.192',
    '198.18.0.1',
    '224.0.0.251',
    '255.255.255.255',
    '::',
    '::1',
    'fc00::1',
    'fd00:ec2::254',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '::ffff:10.0.0.1',
    '64:ff9b::7f00:1',
    '2002:7f00:1::',
    '[::1]',
    'not-an-ip',
  ])('%s is not public', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['157.240.1.1', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2a03:2880:f10c:83:face:b00c:0:25de', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    '%s is public',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );
});

describe('apiUrlProblem (what a tenant may save)', () => {
  it('accepts the documented hosts, https, default port', () => {
    expect(apiUrlProblem('green-api', 'https://api.green-api.com', [])).toBeUndefined();
    expect(apiUrlProblem('green-api', 'https://7103.api.greenapi.com/', [])).toBeUndefined();
    expect(apiUrlProblem('meta-cloud', 'https://graph.facebook.com', [])).toBeUndefined();
    expect(apiUrlProblem('fonnte', 'https://api.fonnte.com', [])).toBeUndefined();
    expect(apiUrlProblem('ultramsg', 'https://api.ultramsg.com', [])).toBeUndefined();
  });

  it('refuses http, other hosts, lookalikes, other ports, IP literals and userinfo', () => {
    expect(apiUrlProblem('fonnte', 'http://api.fonnte.com', [])).toMatch(/https/);
    expect(apiUrlProblem('fonnte', 'https://api.fonnte.com.evil.example', [])).toMatch(/fonnte API host/);
    expect(apiUrlProblem('green-api', 'https://a.b.api.green-api.com', [])).toMatch(/green-api API host/);
    expect(apiUrlProblem('green-api', 'https://evilapi.green-api.com', [])).toMatch(/green-api API host/);
    expect(apiUrlProblem('fonnte', 'https://api.fonnte.com:8443', [])).toMatch(/fonnte API host/);
    expect(apiUrlProblem('fonnte', 'https://localhost', [])).toMatch(/fonnte API host/);
    expect(apiUrlProblem('fonnte', 'https://169.254.169.254/latest/meta-data', [])).toMatch(/not an IP address/);
    expect(apiUrlProblem('fonnte', 'https://[::ffff:127.0.0.1]', [])).toMatch(/not an IP address/);
    expect(apiUrlProblem('fonnte', 'https://2130706433', [])).toMatch(/not an IP address/);
    expect(apiUrlProblem('fonnte', 'https://user:pw@api.fonnte.com', [])).toMatch(/credentials/);
  });

  it('accepts an operator-allowed origin, http and loopback included, and only that origin', () => {
    expect(apiUrlProblem('fonnte', `http://127.0.0.1:${port}`, [`http://127.0.0.1:${port}`])).toBeUndefined();
    expect(apiUrlProblem('fonnte', `http://127.0.0.1:1`, [`http://127.0.0.1:${port}`])).toMatch(/https/);
  });
});

describe('the connect-time guard', () => {
  it('refuses a host name that resolves to loopback (localhost): the server is never called', async () => {
    const egress = createProviderEgress({ allowedOrigins: [] });
    const url = new URL(`http://localhost:${port}/`);
    fake.reset();
    const error: unknown = await fetch(url, { method: 'POST', body: '{}', dispatcher: egress.dispatcher(url) }).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect((error as { cause?: { code?: string } } | undefined)?.cause?.code).toBe('EDEALIX_BLOCKED_ADDRESS');
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a documented host whose DNS answers a private address, or any private address among public ones', async () => {
    for (const addresses of [['127.0.0.1'], ['157.240.1.1', '169.254.169.254'], ['::ffff:10.0.0.1']]) {
      const provider = createFonnteProvider({ token: 'f-token', egress: createProviderEgress({ allowedOrigins: [], lookup: resolvingTo(...addresses) }) });
      expect(await provider.send(outbound()), addresses.join(',')).toMatchObject({ kind: 'transient', code: 'blocked_address' });
    }
  });

  it('refuses saved settings that break the rules before any request (a row from before them)', async () => {
    fake.reset();
    fake.respondWith({ status: 400, body: `bad request data: ${INTERNAL}` });
    for (const apiUrl of [fake.url, `http://localhost:${port}`, `https://127.0.0.1:${port}`]) {
      const provider = createGreenApiProvider({ instanceId: fake.instanceId, token: fake.token, apiUrl, egress: createProviderEgress({ allowedOrigins: [] }) });
      const result = await provider.send(outbound());
      expect(result, apiUrl).toMatchObject({ kind: 'transient', code: 'api_url_refused' });
      expect(JSON.stringify(result)).not.toContain(INTERNAL);
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('lets an operator-allowed origin through, loopback or not', async () => {
    fake.reset();
    const provider = createGreenApiProvider({ instanceId: fake.instanceId, token: fake.token, apiUrl: fake.url, egress: createProviderEgress({ allowedOrigins: [fake.url] }) });
    expect(await provider.send(outbound())).toMatchObject({ kind: 'accepted' });
    expect(fake.requests).toHaveLength(1);
  });

  it('a provider built without an egress gets the default rules: documented hosts only', async () => {
    fake.reset();
    const provider = createGreenApiProvider({ instanceId: fake.instanceId, token: fake.token, apiUrl: fake.url });
    expect(await provider.send(outbound())).toMatchObject({ kind: 'transient', code: 'api_url_refused' });
    expect(fake.requests).toHaveLength(0);
  });
});
