import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { translatePgError } from '../../src/http/sqlstate.ts';
import { defineFlow } from '../../src/flows/flow-definition.ts';
import type { ActionPlugin } from '../../src/gateway/task-router.ts';
import { createTestApp, readJson, type TestApp } from '../support/test-app.ts';
import { ZAnyFlowInput } from '../support/flow-input.ts';

/**
 * Input PostgreSQL or the canonicaliser cannot take (U+0000, lone UTF-16 surrogates, JSON
 * nested thousands deep, payloads of huge node counts) is refused with a 422 that names the
 * field, and nothing is written. No worker runs in this file, so runs stay pending and take signals.
 */

const GREEN_HOOK_TOKEN = 'green-hook-token';

/** Not in the policy table, so class B: a call opens an approval request that stores the payload. */
const notifyPartner: ActionPlugin = {
  action: 'notify_partner',
  description: 'test plugin: class B',
  payload: z.object({ partner: z.string() }),
  flows: [defineFlow({ input: ZAnyFlowInput, name: 'action:notify_partner', version: '1', steps: [{ name: 'send', run: async () => undefined, noCompensation: { reason: 'test sink', escalate: false } }] })],
};

let t: TestApp;
let admin: string;
let dealId: string;
let runId: string;
let webhookKey: string;
let tenantId: string;

beforeAll(async () => {
  t = await createTestApp({ plugins: [notifyPartner], whatsapp: { providers: { 'green-api': { instance_id: '1101000001', token: 'green-token', webhook_token: GREEN_HOOK_TOKEN } } } });
  // A route (POST: its transaction may write) that hands its query string to SQL unvalidated: what reaches the table of SQLSTATEs.
  t.app.post('/api/v1/__raw-sql', async (c) => {
    const value = c.req.query('v') ?? '';
    if (c.req.query('as') === 'jsonb') await c.var.tx.execute(sql`SELECT ${JSON.stringify({ v: value })}::jsonb`);
    else if (c.req.query('as') === 'index') {
      await c.var.tx.execute(sql`CREATE TEMP TABLE big_keys (v text PRIMARY KEY) ON COMMIT DROP`);
      await c.var.tx.execute(sql`INSERT INTO big_keys SELECT string_agg(md5(i::text), '') FROM generate_series(1, ${Number(value)}::int) i`);
    } else await c.var.tx.execute(sql`SELECT ${value}::text`);
    return c.json({ ok: true });
  });
  const tenant = await t.createTestTenant('hostile');
  tenantId = tenant.id;
  admin = await tenant.token('admin');
  const contact = await t.request('POST', '/api/v1/contacts', { token: admin, body: { phone: '0556660101' } });
  dealId = (await t.request('POST', '/api/v1/deals', { token: admin, body: { contact_id: contact.json.id, title: 'Hostile deal' } })).json.id;
  const run = await t.request('POST', '/api/v1/gateway/execute', { token: admin, body: { action: 'tag', payload: { deal_id: dealId, tags: ['x'] } } });
  expect(run.json.result, run.text).toBe('accepted');
  runId = run.json.flow_run_id;
  const key = await t.request('POST', '/api/v1/whatsapp/webhook-key', { token: admin, body: {} });
  webhookKey = String(key.json.urls['green-api']).split('/').at(-1) as string;
});
afterAll(async () => {
  await t?.close();
});

/** `{"a":{"a":…1…}}`, `depth` objects deep. */
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
/** `[[[…]]]`, `depth` arrays deep: 10,000 of them overflow the stack of the recursive JSON code below the routes. */
const arrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** Sends `rawBody` (exact JSON text) and expects a 422 naming `field`, with every table unchanged. */
async function expectRefused(method: string, path: string, rawBody: string | undefined, field: string, headers: Record<string, string> = {}) {
  const before = await t.countEveryTable();
  const response = await t.request(method, path, {
    token: admin,
    ...(rawBody !== undefined ? { rawBody, headers: { 'content-type': 'application/json', ...headers } } : { headers }),
  });
  expect(response.status, response.text).toBe(422);
  expect(response.json.code).toBe('validation_failed');
  expect(response.json.errors.map((e: { field: string }) => e.field)).toContain(field);
  expect(await t.countEveryTable()).toEqual(before);
  return response;
}

const execute = (payload: string) => `{"action":"notify_partner","payload":${payload}}`;
const tag = (payload: string) => `{"action":"tag","payload":${payload}}`;
const signal = (payload: string) => `{"name":"probe","payload":${payload}}`;

describe('U+0000 is refused, naming the field', () => {
  it('in a JSON body field', async () => {
    await expectRefused('POST', '/api/v1/contacts', '{"phone":"0556660102","name":"a\\u0000b"}', 'name');
    await expectRefused('PATCH', `/api/v1/deals/${dealId}`, '{"title":"\\u0000"}', 'title');
  });

  it('in a gateway payload value and key', async () => {
    await expectRefused('POST', '/api/v1/gateway/execute', execute('{"partner":"p\\u0000"}'), 'payload.partner');
    await expectRefused('POST', '/api/v1/gateway/execute', execute('{"partner":"p","x\\u0000y":1}'), 'payload.x\\u0000y');
    await expectRefused('POST', '/api/v1/gateway/execute', tag(`{"deal_id":"${dealId}","tags":["ok","\\u0000"]}`), 'payload.tags.1');
  });

  it('in a flow signal payload', async () => {
    await expectRefused('POST', `/api/v1/flows/${runId}/signals`, signal('{"note":"\\u0000"}'), 'payload.note');
    await expectRefused('POST', `/api/v1/flows/${runId}/signals`, signal('{"\\u0000":true}'), 'payload.\\u0000');
  });

  it('in a query parameter', async () => {
    await expectRefused('GET', '/api/v1/flows?flow=a%00b', undefined, 'query.flow');
    await expectRefused('GET', '/api/v1/contacts?phone=%00', undefined, 'query.phone');
  });

  it('also with an Idempotency-Key (the fingerprint reads the raw body first)', async () => {
    await expectRefused('POST', '/api/v1/gateway/execute', execute('{"partner":"p\\u0000"}'), 'payload.partner', { 'idempotency-key': 'nul-1' });
  });
});

describe('lone surrogates are refused, naming the field', () => {
  it('in a gateway payload value and key', async () => {
    await expectRefused('POST', '/api/v1/gateway/execute', execute('{"partner":"\\ud800"}'), 'payload.partner');
    await expectRefused('POST', '/api/v1/gateway/execute', execute('{"partner":"x\\udc00y"}'), 'payload.partner');
    await expectRefused('POST', '/api/v1/gateway/execute', execute('{"partner":"p","\\ud83d":1}'), 'payload.\\ud83d');
    await expectRefused('POST', '/api/v1/gateway/execute', tag(`{"deal_id":"${dealId}","tags":["\\ud800"]}`), 'payload.tags.0');
  });

  it('also with an Idempotency-Key', async () => {
    await expectRefused('POST', '/api/v1/gateway/execute', execute('{"partner":"\\ud800"}'), 'payload.partner', { 'idempotency-key': 'surrogate-1' });
  });

  it('a well-formed pair (an emoji) is accepted', async () => {
    const response = await t.request('POST', '/api/v1/gateway/execute', { token: admin, rawBody: execute('{"partner":"\\ud83d\\ude00"}'), headers: { 'content-type': 'application/json' } });
    expect(response.status, response.text).toBe(202);
    expect(response.json.result).toBe('requires_approval');
  });
});

describe('numbers past a double (1e400 reads as Infinity) are refused, naming the field', () => {
  it('in a gateway payload (it answered 500 from the canonicaliser) and a flow signal payload', async () => {
    await expectRefused('POST', '/api/v1/gateway/execute', execute('{"partner":"p","n":1e400}'), 'payload.n');
    await expectRefused('POST', '/api/v1/gateway/execute', execute('{"partner":"p","n":[-1e400]}'), 'payload.n.0', { 'idempotency-key': 'inf-1' });
    await expectRefused('POST', `/api/v1/flows/${runId}/signals`, signal('{"n":1e400}'), 'payload.n');
  });
});

describe('free-form payloads are capped: 64 levels deep, 10,000 nodes', () => {
  it('thousands of levels deep in a gateway payload', async () => {
    await expectRefused('POST', '/api/v1/gateway/execute', execute(`{"partner":"p","deep":${nested(3_000)}}`), 'payload.deep');
    await expectRefused('POST', '/api/v1/gateway/execute', execute(`{"partner":"p","deep":${arrays(10_000)}}`), 'payload.deep');
    await expectRefused('POST', '/api/v1/gateway/execute', execute(`{"partner":"p","deep":${arrays(10_000)}}`), 'payload.deep', { 'idempotency-key': 'deep-1' });
    await expectRefused('POST', '/api/v1/gateway/execute', tag(`{"deal_id":"${dealId}","deep":${arrays(10_000)}}`), 'payload.deep', { 'idempotency-key': 'deep-2' });
  });

  it('thousands of levels deep in a flow signal payload', async () => {
    await expectRefused('POST', `/api/v1/flows/${runId}/signals`, signal(`{"deep":${nested(5_000)}}`), 'payload.deep');
    await expectRefused('POST', `/api/v1/flows/${runId}/signals`, signal(`{"deep":${arrays(10_000)}}`), 'payload.deep');
  });

  it('a body nesting 65 levels is refused, 64 is accepted', async () => {
    // The body is level 1 and its payload level 2, so `deep` may hold 62 objects.
    await expectRefused('POST', `/api/v1/flows/${runId}/signals`, signal(`{"deep":${nested(63)}}`), 'payload.deep');
    const ok = await t.request('POST', `/api/v1/flows/${runId}/signals`, { token: admin, rawBody: signal(`{"deep":${nested(62)}}`), headers: { 'content-type': 'application/json' } });
    expect(ok.status, ok.text).toBe(202);
  });

  it('more than 10,000 nodes', async () => {
    const many = `[${Array.from({ length: 10_001 }, () => '0').join(',')}]`;
    await expectRefused('POST', `/api/v1/flows/${runId}/signals`, signal(`{"many":${many}}`), 'payload.many');
    await expectRefused('POST', '/api/v1/gateway/execute', execute(`{"partner":"p","many":${many}}`), 'payload.many');
  });
});

describe('webhook text: U+0000 is stripped and the message kept', () => {
  it('answers 200 and stores the message without the NUL', async () => {
    const body = JSON.stringify({
      typeWebhook: 'incomingMessageReceived',
      timestamp: 1749416383,
      idMessage: 'NUL0000MESSAGE01',
      senderData: { chatId: '966512345678@c.us', sender: '966512345678@c.us', senderName: 'أبو\u0000 خالد' },
      messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: 'أبغى\u0000 أعرف الأسعار \ud800' } },
    });
    expect(body).toContain('\\u0000');
    const response = await t.app.request(`/webhooks/whatsapp/green-api/${webhookKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${GREEN_HOOK_TOKEN}` },
      body,
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    expect(readJson(text)).toMatchObject({ messages: 1 });
    const [event] = (
      await t.superuser.query(`SELECT event, provider_message_id FROM whatsapp_webhook_events WHERE tenant_id = $1 AND kind = 'message'`, [tenantId])
    ).rows;
    expect(event.provider_message_id).toBe('NUL0000MESSAGE01');
    expect(event.event.text).toBe('أبغى أعرف الأسعار \ufffd');
    expect(event.event.senderName).toBe('أبو خالد');
  });
});

describe('the SQLSTATEs of such input are 4xx', () => {
  it('through HTTP: U+0000 into text (22021) and jsonb (22P05), an oversized index row (54000) → 422', async () => {
    for (const query of ['v=a%00b', 'v=a%00b&as=jsonb', 'v=400&as=index']) {
      const before = await t.countEveryTable();
      const response = await t.request('POST', `/api/v1/__raw-sql?${query}`, { token: admin });
      expect(response.status, `${query}: ${response.text}`).toBe(422);
      expect(response.json.code).toBe('validation_failed');
      expect(await t.countEveryTable()).toEqual(before);
    }
    expect((await t.request('POST', '/api/v1/__raw-sql?v=fine', { token: admin })).status).toBe(200);
  });

  const pgError = async (sql: string, params: unknown[] = []) => {
    try {
      await t.superuser.query(sql, params);
    } catch (error) {
      return error;
    }
    throw new Error(`${sql} did not fail`);
  };

  it('22021 (NUL in text), 22P05 (NUL in jsonb), 54000 (a value too large for an index) → 422', async () => {
    const nul = await pgError('SELECT $1::text', ['a\u0000b']);
    const jsonbNul = await pgError(`SELECT '{"a":"\\u0000"}'::jsonb ->> 'a'`);
    // One simple-protocol query, so the temporary table and the insert share a connection.
    const tooBig = await pgError(`CREATE TEMP TABLE big_keys (v text PRIMARY KEY); INSERT INTO big_keys SELECT string_agg(md5(i::text), '') FROM generate_series(1, 400) i`);
    for (const [error, sqlstate] of [
      [nul, '22021'],
      [jsonbNul, '22P05'],
      [tooBig, '54000'],
    ] as const) {
      expect((error as { code: string }).code).toBe(sqlstate);
      expect(translatePgError(error)?.status, sqlstate).toBe(422);
    }
  });
});
