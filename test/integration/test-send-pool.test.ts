import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGreenApi, type FakeGreenApi, type FakeReply } from '../support/fake-whatsapp/index.ts';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

/**
 * POST /os/test-send must not hold the API's connections while the send runs: with the
 * provider hanging, more concurrent test sends than half the pool once kept every connection
 * busy (the request's own, plus more to poll the run) and a plain GET could not get one.
 */
const POOL = 6;
const SENDS = 4; // > POOL / 2, and no more than the worker's concurrency, so every send reaches the provider
let t: TestApp;
let tenant: TestTenant;
let admin: string;
let green: FakeGreenApi;

beforeAll(async () => {
  green = await startFakeGreenApi();
  t = await createTestApp({
    poolMax: POOL,
    whatsapp: { timeoutMs: 120_000, providers: { 'green-api': { instance_id: green.instanceId, token: green.token, api_url: green.url } } },
  });
  tenant = await t.createTestTenant('test-send-pool');
  admin = await tenant.token('admin');
  const manager = await tenant.token('sales_manager', await tenant.addUser(['sales_manager']));
  const grant = await t.request('POST', '/api/v1/standing-approvals', {
    token: manager,
    body: { action: 'whatsapp_test_send', conditions: {}, expires_at: new Date(Date.now() + 3_600_000).toISOString() },
  });
  expect(grant.status, grant.text).toBe(201);
  await t.startWorker({ pollIntervalMs: 50 });
});
afterAll(async () => {
  // The fake first: a request still held ends, so the worker can stop.
  await green?.close();
  await t?.close();
});

describe('POST /os/test-send under a hanging provider', () => {
  it(`${SENDS} concurrent test sends (pool of ${POOL}) leave a plain GET answering; each 202 run completes`, { timeout: 90_000 }, async () => {
    let release: (reply: FakeReply) => void = () => undefined;
    const held = new Promise<FakeReply>((resolve) => (release = resolve));
    green.respondWith(...Array.from({ length: SENDS }, () => ({ held })));
    const sends = Array.from({ length: SENDS }, (_, i) =>
      t.request('POST', '/api/v1/os/test-send', { token: admin, body: { to: `05512300${String(i).padStart(2, '0')}`, text: `test ${i}` } }),
    );
    // Every send is at the provider, or the pool already has callers waiting for a connection.
    while (green.requests.length < SENDS && t.appPool.waitingCount === 0) await sleep(20);

    const list = await t.request('GET', '/api/v1/contacts', { token: admin });
    expect(list.status, list.text).toBe(200);

    // Answered while the provider still hangs: nobody waits for the send (it once answered 500
    // when its polls found no connection, or 200 only after the send finished).
    const answers = await Promise.all(sends);
    for (const answer of answers) {
      expect(answer.status, answer.text).toBe(202);
      expect(answer.json).toMatchObject({ result: 'accepted', run_status: 'pending' });
      expect(answer.headers.get('location')).toBe(`/api/v1/flows/${answer.json.flow_run_id}`);
    }
    release({ status: 200, body: { idMessage: '3EB0POOLTEST0001' } });
    for (const answer of answers) {
      const run = await t.waitForRun(answer.json.flow_run_id, ['completed', 'failed'], admin);
      expect(run.status, JSON.stringify(run.error)).toBe('completed');
      expect(run.output.result).toMatchObject({ kind: 'accepted', provider: 'green-api' });
    }
  });
});
