import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveProviderCredentials } from '../../src/whatsapp/outbound/credentials.store.ts';
import { withTenant } from '../../src/tenancy/with-tenant.ts';
import { startFakeGreenApi, startFakeUltramsg, type FakeGreenApi, type FakeUltramsg } from '../support/fake-whatsapp/index.ts';
import { createTestApp, TEST_MASTER_KEY, type TestApp, type TestTenant } from '../support/test-app.ts';

/**
 * Issue 9 item 6: a tenant admin cannot aim a provider at this server's network. `internal`
 * stands for anything on loopback (an admin port, a metadata proxy); `allowed` is a fake the
 * operator listed in WHATSAPP_ALLOWED_API_HOSTS.
 */
const INTERNAL = 'INTERNAL-ANSWER-169-254';
let t: TestApp;
let internal: FakeGreenApi;
let allowed: FakeUltramsg;
let tenant: TestTenant;
let admin: string;
let manager: string;

beforeAll(async () => {
  [internal, allowed] = await Promise.all([startFakeGreenApi({ instanceId: '1101000001', token: 'green-token' }), startFakeUltramsg()]);
  t = await createTestApp({ whatsapp: { allowedApiOrigins: [allowed.url] } });
  tenant = await t.createTestTenant('egress');
  admin = await tenant.token('admin');
  manager = await tenant.token('sales_manager', await tenant.addUser(['sales_manager']));
  await t.startWorker({ pollIntervalMs: 50 });
});
afterAll(async () => {
  await t?.close();
  await Promise.all([internal?.close(), allowed?.close()]);
});

async function put(provider: string, body: Record<string, unknown>) {
  return t.request('PUT', `/api/v1/whatsapp/providers/${provider}`, { token: admin, body });
}

function expectApiUrlRefused(response: Awaited<ReturnType<typeof put>>, message: RegExp) {
  expect(response.status, response.text).toBe(422);
  expect(response.json.errors).toEqual([{ field: 'api_url', message: expect.stringMatching(message) }]);
}

describe('PUT /whatsapp/providers/{name}: api_url', () => {
  it('refuses http://, naming the field, and stores nothing', async () => {
    const before = await t.countEveryTable();
    expectApiUrlRefused(await put('fonnte', { token: 'f-token', api_url: 'http://api.fonnte.com' }), /https/);
    expectApiUrlRefused(await put('green-api', { instance_id: '1', token: 'g', api_url: `http://127.0.0.1:${new URL(internal.url).port}` }), /https/);
    expect(await t.countEveryTable()).toEqual(before);
  });

  it('refuses a host the provider does not document', async () => {
    expectApiUrlRefused(await put('fonnte', { token: 'f-token', api_url: 'https://api.fonnte.com.attacker.example' }), /fonnte API host \(api\.fonnte\.com\)/);
    expectApiUrlRefused(await put('meta-cloud', { access_token: 'm', phone_number_id: '106540352242922', api_url: 'https://localhost' }), /meta-cloud API host/);
  });

  it('refuses an IP literal: metadata, loopback, mapped IPv6', async () => {
    for (const apiUrl of ['https://169.254.169.254/latest', 'https://127.0.0.1', 'https://[::ffff:127.0.0.1]', 'https://[fd00:ec2::254]']) {
      expectApiUrlRefused(await put('ultramsg', { instance_id: 'instance1', token: 'u', api_url: apiUrl }), /not an IP address/);
    }
  });

  it('accepts a documented host and an operator-allowed origin (http and loopback included)', async () => {
    expect((await put('green-api', { instance_id: '1101000001', token: 'g', api_url: 'https://7103.api.greenapi.com' })).status).toBe(200);
    const saved = await put('ultramsg', { instance_id: allowed.instanceId, token: allowed.token, api_url: allowed.url });
    expect(saved.status, saved.text).toBe(200);
    await t.request('DELETE', '/api/v1/whatsapp/providers/green-api', { token: admin });
    await t.request('DELETE', '/api/v1/whatsapp/providers/ultramsg', { token: admin });
  });
});

describe('settings saved before the rules (or written past the API)', () => {
  it('a test send never calls a refused host, and its answer reaches neither the API nor last_error', async () => {
    internal.reset();
    // Green API's 400 body goes into the reason: exactly what an attacker would read back.
    internal.respondWith({ status: 400, body: `bad request data: ${INTERNAL}` }, { status: 400, body: `bad request data: ${INTERNAL}` });
    await withTenant({ pool: t.appPool, tenantId: tenant.id }, (tx) =>
      saveProviderCredentials({
        tx,
        tenantId: tenant.id,
        masterKey: TEST_MASTER_KEY,
        provider: 'green-api',
        settings: { instance_id: internal.instanceId, token: internal.token, api_url: `http://localhost:${new URL(internal.url).port}` },
        actor: tenant.adminId,
      }),
    );
    const first = await t.request('POST', '/api/v1/os/test-send', { token: manager, body: { to: '0551239876', text: 'test' } });
    expect(first.status, first.text).toBe(202);
    const approved = await t.request('POST', `/api/v1/approvals/${first.json.approval_request_id}/approve`, { token: admin });
    expect(approved.status, approved.text).toBe(200);
    const sent = await t.request('POST', '/api/v1/os/test-send', { token: manager, body: { to: '0551239876', text: 'test', approval_token: approved.json.approval_token } });
    expect(sent.status, sent.text).toBe(202);
    const run = await t.waitForRun(sent.json.flow_run_id, ['completed', 'failed'], manager);
    expect(run.output.attempts).toEqual([expect.objectContaining({ provider: 'green-api', outcome: 'transient', code: 'api_url_refused' })]);
    expect(JSON.stringify(run)).not.toContain(INTERNAL);
    expect(internal.requests).toHaveLength(0);

    const status = await t.request('GET', '/api/v1/os/whatsapp-providers', { token: admin });
    const green = status.json.data.find((provider: { name: string }) => provider.name === 'green-api');
    expect(green.last_error).toMatchObject({ code: 'api_url_refused' });
    expect(status.text).not.toContain(INTERNAL);
    const stored = await t.superuser.query(`SELECT reason FROM whatsapp_send_attempts WHERE tenant_id = $1`, [tenant.id]);
    expect(JSON.stringify(stored.rows)).not.toContain(INTERNAL);
  });
});
