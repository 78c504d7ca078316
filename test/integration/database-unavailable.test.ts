import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

/**
 * While PostgreSQL is down or restarting, requests answer 503 service_unavailable with
 * Retry-After, never 500: the app's pool reaches the database through a proxy the test
 * takes down (refused connections) and through backends the test terminates (57P01 and
 * "Connection terminated unexpectedly").
 */

let t: TestApp;
let tenant: TestTenant;
let token: string;
let proxy: TcpProxy;

beforeAll(async () => {
  proxy = await startTcpProxy({ port: inject('postgres').port });
  t = await createTestApp({ appUrlVia: (url) => proxy.via(url), lockTimeoutMs: 30_000 });
  tenant = await t.createTestTenant('dbdown');
  token = await tenant.token('admin');
});
afterAll(async () => {
  await proxy?.up();
  await t?.close();
  await proxy?.close();
});

function expectUnavailable(response: Awaited<ReturnType<TestApp['request']>>) {
  expect(response.status, response.text).toBe(503);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.json).toMatchObject({ status: 503, code: 'service_unavailable', type: 'urn:dealix:problem:service_unavailable' });
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(t.logLines.filter((line) => line.msg === 'unhandled error')).toEqual([]);
}

describe('the database goes away under the API (chaos finding B)', () => {
  it('answers 503 with Retry-After while connections are refused, and 200 once the database is back', async () => {
    expect((await t.request('GET', '/api/v1/contacts', { token })).status).toBe(200);
    await proxy.down();
    try {
      // The first request finds its pooled connection cut; the next ones cannot connect at all.
      for (let i = 0; i < 3; i++) expectUnavailable(await t.request('GET', '/api/v1/contacts', { token }));
      expectUnavailable(await t.request('POST', '/api/v1/contacts', { token, body: { name: 'Reem', phone: '+966500000001' } }));
    } finally {
      await proxy.up();
    }
    expect((await t.request('GET', '/api/v1/contacts', { token })).status).toBe(200);
  });

  it("answers 503 when the request's backend is terminated in the middle of its transaction", async () => {
    const created = await t.request('POST', '/api/v1/contacts', { token, body: { name: 'Lina', phone: '+966500000002' } });
    expect(created.status, created.text).toBe(201);
    const contactId = created.json.id as string;
    // Hold the contact's row so the request's UPDATE waits on it; then terminate its backend.
    const holder = await t.superuser.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM contacts WHERE id = $1 FOR UPDATE', [contactId]);
      const patched = t.request('PATCH', `/api/v1/contacts/${contactId}`, { token, body: { name: 'Lina A.' } });
      let pid: number | undefined;
      for (let i = 0; i < 400 && pid === undefined; i++) {
        const { rows } = await t.superuser.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'dealix-test' AND wait_event_type = 'Lock'`,
        );
        pid = rows[0]?.pid;
        if (pid === undefined) await sleep(25);
      }
      expect(pid).toBeDefined();
      await t.superuser.query('SELECT pg_terminate_backend($1)', [pid]);
      expectUnavailable(await patched);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect((await t.request('GET', `/api/v1/contacts/${contactId}`, { token })).json.name).toBe('Lina');
  });
});
