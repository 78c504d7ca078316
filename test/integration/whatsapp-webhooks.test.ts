import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonFixture, rawFixture } from '../fixtures/whatsapp-webhooks/load-fixture.ts';
import { withTenant } from '../../src/tenancy/with-tenant.ts';
import type { StepContext } from '../../src/flows/flow-definition.ts';
import { INBOUND_WHATSAPP_FLOW, INBOUND_WHATSAPP_FLOW_VERSION } from '../../src/whatsapp/inbound/inbound-message.ts';
import { createTestApp, readJson, type TestApp, type TestTenant } from '../support/test-app.ts';

/**
 * Inbound WhatsApp webhooks against the real app and database: the admin API for the key, the
 * public endpoints per provider, authenticity, dedup, statuses, and the inbound flow run by the
 * worker. No standing approval is granted, so replies become drafts and nothing is sent.
 */

const META_APP_SECRET = 'meta-app-secret';
const META_VERIFY_TOKEN = 'verify-me';
const GREEN_HOOK_TOKEN = 'green-hook-token';
const FONNTE_SECRET = 'fonnte-secret';
const SECRETS = ['meta-test-token', META_APP_SECRET, META_VERIFY_TOKEN, 'green-token', GREEN_HOOK_TOKEN, 'ultra-token', 'fonnte-token', FONNTE_SECRET];

const META_TEXT_WAMID = 'wamid.HBgMOTY2NTEyMzQ1Njc4FQIAEhgUM0E0QTY1OTlBRUUwMzgxMDE0NEYA';
const META_FAILED_WAMID = 'wamid.HBgMOTY2NTEyMzQ1Njc4FQIAERgSQkJCQkJCQkJCQkJCQkJCAA==';
const GREEN_OUTBOUND_ID = '3EB0C767D097B7C7C030';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({
    whatsapp: {
      providers: {
        'meta-cloud': { access_token: 'meta-test-token', phone_number_id: '106540352242922', app_secret: META_APP_SECRET, verify_token: META_VERIFY_TOKEN },
        'green-api': { instance_id: '1101000001', token: 'green-token', webhook_token: GREEN_HOOK_TOKEN },
        ultramsg: { instance_id: 'instance1150', token: 'ultra-token' },
        fonnte: { token: 'fonnte-token', webhook_secret: FONNTE_SECRET },
      },
    },
  });
  await t.startWorker({ pollIntervalMs: 50 });
});
afterAll(async () => {
  await t?.close();
});

const rows = async (sql: string, params: unknown[] = []) => (await t.superuser.query(sql, params)).rows;
const sign = (body: Buffer | string) => `sha256=${createHmac('sha256', META_APP_SECRET).update(body).digest('hex')}`;

interface Setup {
  tenant: TestTenant;
  admin: string;
  key: string;
}

let slugCounter = 0;
async function setup(name: string): Promise<Setup> {
  const tenant = await t.createTestTenant(`wa-${name}-${++slugCounter}`);
  const admin = await tenant.token('admin');
  const created = await t.request('POST', '/api/v1/whatsapp/webhook-key', { token: admin, body: {} });
  expect(created.status, created.text).toBe(200);
  const key = String(created.json.urls['meta-cloud']).split('/').at(-1) as string;
  return { tenant, admin, key };
}

/** Posts exact bytes (a Buffer or a string, sent as its UTF-8) to a webhook URL. */
async function post(provider: string, key: string, body: Buffer | string, headers: Record<string, string> = {}) {
  const response = await t.app.request(`/webhooks/whatsapp/${provider}/${key}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const text = await response.text();
  return { status: response.status, text, json: readJson(text), headers: response.headers };
}

const postMeta = (key: string, body: Buffer | string) => post('meta-cloud', key, body, { 'x-hub-signature-256': sign(body) });
const json = (value: unknown) => JSON.stringify(value);

/** Waits for every inbound run of the tenant to finish and returns their outputs. */
async function processedRuns(setup: Setup, expected: number) {
  const events = await rows(`SELECT flow_run_id FROM whatsapp_webhook_events WHERE tenant_id = $1 AND kind = 'message' ORDER BY received_at, id`, [setup.tenant.id]);
  expect(events).toHaveLength(expected);
  const outputs = [];
  for (const event of events) {
    expect(event.flow_run_id).toBeTruthy();
    const run = await t.waitForRun(event.flow_run_id, ['completed', 'failed'], setup.admin);
    expect(run.status, JSON.stringify(run)).toBe('completed');
    outputs.push(run.output);
  }
  return outputs;
}

function metaStatus(id: string, status: string, timestamp: number, errors?: unknown[]) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '966501234567', phone_number_id: '106540352242922' },
              statuses: [{ id, status, timestamp: String(timestamp), recipient_id: '966512345678', ...(errors ? { errors } : {}) }],
            },
          },
        ],
      },
    ],
  };
}

async function insertOutbound(setup: Setup, provider: string, externalId: string) {
  const contact = await t.request('POST', '/api/v1/contacts', { token: setup.admin, body: { phone: '0512345678', name: 'أبو خالد' } });
  expect([201, 409]).toContain(contact.status);
  const [row] = await rows(
    `INSERT INTO outbound_messages (tenant_id, contact_id, to_e164, body, idempotency_key, status, provider, external_id, sent_at)
     VALUES ($1, $2, '+966512345678', 'أهلاً، الأسعار تبدأ من ٥٠٠ ريال', $3, 'sent', $4, $5, now()) RETURNING id`,
    [setup.tenant.id, contact.json.id, `test:${externalId}`, provider, externalId],
  );
  return row.id as string;
}

describe('webhook key: admin API', () => {
  it('creates, reads back, rotates (the old key is then unknown), and is admin only', async () => {
    const s = await setup('key');
    const urls = await t.request('GET', '/api/v1/whatsapp/webhooks', { token: s.admin });
    expect(urls.status, urls.text).toBe(200);
    expect(urls.json.urls).toEqual({
      'green-api': `/webhooks/whatsapp/green-api/${s.key}`,
      ultramsg: `/webhooks/whatsapp/ultramsg/${s.key}`,
      fonnte: `/webhooks/whatsapp/fonnte/${s.key}`,
      'meta-cloud': `/webhooks/whatsapp/meta-cloud/${s.key}`,
    });
    expect(s.key).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // Without rotate, the same key again.
    const again = await t.request('POST', '/api/v1/whatsapp/webhook-key', { token: s.admin, body: {} });
    expect(again.json.urls['meta-cloud']).toBe(`/webhooks/whatsapp/meta-cloud/${s.key}`);

    const stored = await rows('SELECT key_sha256, sealed_key FROM whatsapp_webhook_keys WHERE tenant_id = $1', [s.tenant.id]);
    expect(stored[0].sealed_key).not.toContain(s.key);

    const rotated = await t.request('POST', '/api/v1/whatsapp/webhook-key', { token: s.admin, body: { rotate: true } });
    expect(rotated.status, rotated.text).toBe(200);
    const newKey = String(rotated.json.urls['green-api']).split('/').at(-1) as string;
    expect(newKey).not.toBe(s.key);

    const body = rawFixture('green-api.text.json');
    const old = await post('green-api', s.key, body, { authorization: `Bearer ${GREEN_HOOK_TOKEN}` });
    expect(old.status, old.text).toBe(404);
    expect(old.headers.get('content-type')).toContain('application/problem+json');
    const current = await post('green-api', newKey, body, { authorization: `Bearer ${GREEN_HOOK_TOKEN}` });
    expect(current.status, current.text).toBe(200);

    const rep = await s.tenant.token('sales_rep', await s.tenant.addUser(['sales_rep']));
    expect((await t.request('POST', '/api/v1/whatsapp/webhook-key', { token: rep, body: {} })).status).toBe(403);
    expect((await t.request('GET', '/api/v1/whatsapp/webhooks', { token: rep })).status).toBe(403);
  });

  it('an empty POST creates the key too, and the OpenAPI document lists the routes', async () => {
    const tenant = await t.createTestTenant('wa-empty-post');
    const admin = await tenant.token('admin');
    // Two first calls at once get the same key: neither overwrites the other's.
    const [created, racing] = await Promise.all([
      t.request('POST', '/api/v1/whatsapp/webhook-key', { token: admin }),
      t.request('POST', '/api/v1/whatsapp/webhook-key', { token: admin, body: {} }),
    ]);
    expect(created.status, created.text).toBe(200);
    expect(racing.json.urls).toEqual(created.json.urls);
    const doc = await t.request('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining(['/api/v1/whatsapp/webhook-key', '/api/v1/whatsapp/webhooks', '/webhooks/whatsapp/{provider}/{key}', '/webhooks/whatsapp/meta-cloud/{key}']),
    );
  });

  it('GET /whatsapp/webhooks is 404 before a key exists', async () => {
    const tenant = await t.createTestTenant('wa-nokey');
    const response = await t.request('GET', '/api/v1/whatsapp/webhooks', { token: await tenant.token('admin') });
    expect(response.status, response.text).toBe(404);
  });
});

describe('inbound messages, every provider', () => {
  const cases: Array<{ provider: string; fixture: string; headers: (body: Buffer) => Record<string, string>; contentType?: string; body?: (raw: Buffer) => string }> = [
    { provider: 'meta-cloud', fixture: 'meta-cloud.text.json', headers: (body) => ({ 'x-hub-signature-256': sign(body) }) },
    { provider: 'green-api', fixture: 'green-api.text.json', headers: () => ({ authorization: `Bearer ${GREEN_HOOK_TOKEN}` }) },
    { provider: 'green-api', fixture: 'green-api.extended-text.json', headers: () => ({ authorization: `Bearer ${GREEN_HOOK_TOKEN}` }) },
    { provider: 'ultramsg', fixture: 'ultramsg.message-received.json', headers: () => ({}) },
    {
      provider: 'ultramsg',
      fixture: 'ultramsg.form-encoded.json',
      headers: () => ({ 'content-type': 'application/x-www-form-urlencoded' }),
      body: (raw) => new URLSearchParams(JSON.parse(raw.toString('utf8')) as Record<string, string>).toString(),
    },
    { provider: 'fonnte', fixture: 'fonnte.message.json', headers: () => ({ 'x-fonnte-secret': FONNTE_SECRET }) },
  ];

  for (const c of cases) {
    it(`${c.fixture}: 200, stored, then processed by the worker (price_inquiry, deal moved, inbound message recorded)`, async () => {
      const s = await setup(c.provider);
      const raw = rawFixture(c.fixture);
      const body = c.body ? Buffer.from(c.body(raw), 'utf8') : raw;
      const response = await post(c.provider, s.key, body, c.headers(body));
      expect(response.status, response.text).toBe(200);
      expect(response.json).toEqual({ received: 1, messages: 1, duplicates: 0, statuses: 0, ignored: 0 });

      const [output] = await processedRuns(s, 1);
      expect(output).toMatchObject({ status: 'processed', intent: 'price_inquiry', stage: { from: 'new_lead' } });
      expect(output.stage.to).not.toBe('new_lead');
      const inbound = await rows('SELECT text, intent, contact_id, deal_id FROM inbound_messages WHERE tenant_id = $1', [s.tenant.id]);
      expect(inbound).toHaveLength(1);
      expect(inbound[0]).toMatchObject({ text: 'أبغى أعرف الأسعار', intent: 'price_inquiry' });
      const [contact] = await rows('SELECT phone_e164 FROM contacts WHERE id = $1', [inbound[0].contact_id]);
      expect(contact.phone_e164).toBe('+966512345678');
      const [deal] = await rows('SELECT stage FROM deals WHERE id = $1', [inbound[0].deal_id]);
      expect(deal.stage).toBe(output.stage.to);
      const [event] = await rows('SELECT processed_at, raw_body FROM whatsapp_webhook_events WHERE tenant_id = $1', [s.tenant.id]);
      expect(event.processed_at).toBeTruthy();
      expect(event.raw_body).toBe(body.toString('utf8'));
      // No standing approval: nothing was sent.
      expect(await rows(`SELECT id FROM outbound_messages WHERE tenant_id = $1 AND status = 'sent'`, [s.tenant.id])).toHaveLength(0);
    });
  }

  it('the same webhook twice: stored and processed once, the second answer says duplicates: 1', async () => {
    const s = await setup('dup');
    const body = rawFixture('meta-cloud.text.json');
    expect((await postMeta(s.key, body)).json).toMatchObject({ messages: 1, duplicates: 0 });
    const second = await postMeta(s.key, body);
    expect(second.status).toBe(200);
    expect(second.json).toEqual({ received: 1, messages: 0, duplicates: 1, statuses: 0, ignored: 0 });
    await processedRuns(s, 1);
    // A third delivery after processing is still a duplicate.
    expect((await postMeta(s.key, body)).json.duplicates).toBe(1);
    expect(await rows('SELECT id FROM inbound_messages WHERE tenant_id = $1', [s.tenant.id])).toHaveLength(1);
    expect(await rows(`SELECT id FROM flow_runs WHERE tenant_id = $1 AND flow_name = 'whatsapp:inbound'`, [s.tenant.id])).toHaveLength(1);
  });

  it('the key decides the tenant: the same message to two tenants is stored and processed by each, in its own tenant only', async () => {
    const first = await setup('iso-a');
    const second = await setup('iso-b');
    const body = rawFixture('meta-cloud.text.json');
    expect((await postMeta(first.key, body)).json).toMatchObject({ messages: 1, duplicates: 0 });
    // Not a duplicate for the second tenant: redelivery is recognised per tenant.
    expect((await postMeta(second.key, body)).json).toMatchObject({ messages: 1, duplicates: 0 });
    await processedRuns(first, 1);
    await processedRuns(second, 1);
    for (const s of [first, second]) {
      const inbound = await rows('SELECT tenant_id FROM inbound_messages WHERE tenant_id = $1', [s.tenant.id]);
      expect(inbound).toHaveLength(1);
      // Through the API each tenant sees one contact: its own.
      const contacts = await t.request('GET', '/api/v1/contacts', { token: s.admin });
      expect(contacts.json.data.map((contact: { phone: string }) => contact.phone)).toEqual(['+966512345678']);
    }
    const [a, b] = await Promise.all([first, second].map(async (s) => (await rows('SELECT contact_id FROM inbound_messages WHERE tenant_id = $1', [s.tenant.id]))[0].contact_id));
    expect(a).not.toBe(b);
  });

  it('the process step run again (a crash after its commit, before the checkpoint) does nothing twice', async () => {
    const s = await setup('once');
    await postMeta(s.key, rawFixture('meta-cloud.text.json'));
    await processedRuns(s, 1);
    const [run] = await rows(`SELECT id, input FROM flow_runs WHERE tenant_id = $1 AND flow_name = $2`, [s.tenant.id, INBOUND_WHATSAPP_FLOW]);
    const step = t.router.registry.get(INBOUND_WHATSAPP_FLOW, INBOUND_WHATSAPP_FLOW_VERSION)?.steps[0];
    // Only the fields the step reads; the engine builds the real context.
    const ctx = {
      runId: run.id,
      tenantId: s.tenant.id,
      input: run.input as Record<string, unknown>,
      correlationId: null,
      logger: t.logger,
      db: (work) => withTenant({ pool: t.appPool, tenantId: s.tenant.id }, work),
    } as Partial<StepContext> as StepContext;
    const again = await step?.run(ctx);
    expect(again).toMatchObject({ output: { status: 'already_processed' } });
    expect(await rows('SELECT id FROM inbound_messages WHERE tenant_id = $1', [s.tenant.id])).toHaveLength(1);
  });

  it('a Meta batch: every text message processed, the image ignored, the statuses counted', async () => {
    const s = await setup('batch');
    const response = await postMeta(s.key, rawFixture('meta-cloud.batch.json'));
    expect(response.status, response.text).toBe(200);
    expect(response.json).toMatchObject({ messages: 2, duplicates: 0, statuses: 2, ignored: 1 });
    const outputs = await processedRuns(s, 2);
    expect(outputs.map((output) => output.status)).toEqual(['processed', 'processed']);
    const inbound = await rows('SELECT text FROM inbound_messages WHERE tenant_id = $1 ORDER BY text', [s.tenant.id]);
    expect(inbound.map((row) => row.text).sort()).toEqual(['أبغى أعرف الأسعار', 'كم سعر الباقة الشهرية؟'].sort());
  });

  it('echoes of our own sends (Green API outgoing*, Ultramsg fromMe) are stored as ignored and never processed', async () => {
    const s = await setup('echo');
    const green = await post('green-api', s.key, rawFixture('green-api.outgoing-echo.json'), { authorization: `Bearer ${GREEN_HOOK_TOKEN}` });
    expect(green.json).toEqual({ received: 1, messages: 0, duplicates: 0, statuses: 0, ignored: 1 });
    const ultra = await post('ultramsg', s.key, rawFixture('ultramsg.from-me-echo.json'));
    expect(ultra.json).toEqual({ received: 1, messages: 0, duplicates: 0, statuses: 0, ignored: 1 });
    const events = await rows('SELECT kind, processed_at, flow_run_id, event FROM whatsapp_webhook_events WHERE tenant_id = $1', [s.tenant.id]);
    expect(events).toHaveLength(2);
    for (const event of events) expect(event).toMatchObject({ kind: 'ignored', processed_at: null, flow_run_id: null });
    expect(await rows('SELECT id FROM flow_runs WHERE tenant_id = $1', [s.tenant.id])).toHaveLength(0);
    expect(await rows('SELECT id FROM inbound_messages WHERE tenant_id = $1', [s.tenant.id])).toHaveLength(0);
  });

  it("Fonnte's device token never reaches the stored raw body", async () => {
    const s = await setup('fonnte-device');
    const response = await post('fonnte', s.key, rawFixture('fonnte.device-status.json'), { 'x-fonnte-secret': FONNTE_SECRET });
    expect(response.json).toMatchObject({ ignored: 1 });
    const [event] = await rows('SELECT raw_body, event FROM whatsapp_webhook_events WHERE tenant_id = $1', [s.tenant.id]);
    expect(event.raw_body).not.toContain('FAKE-fonnte-device-token');
    expect(JSON.stringify(event.event)).not.toContain('FAKE-fonnte-device-token');
  });
});

describe('refused webhooks store nothing', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup('refused');
  });

  /**
   * The worker keeps processing runs started by earlier tests (their checkpoints, jobs, timed
   * replies): wait until the database is quiet, so a changed count can only be this request's.
   */
  async function quietCounts() {
    let previous = await t.countEveryTable();
    for (let i = 0; i < 50; i++) {
      await sleep(100);
      const current = await t.countEveryTable();
      if (JSON.stringify(current) === JSON.stringify(previous)) return current;
      previous = current;
    }
    throw new Error('the database never went quiet');
  }

  async function expectRefused(status: number, send: () => Promise<{ status: number; text: string; headers: Headers }>) {
    const before = await quietCounts();
    const linesBefore = t.logLines.length;
    const response = await send();
    expect(response.status, response.text).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await t.countEveryTable()).toEqual(before);
    const logged = JSON.stringify(t.logLines.slice(linesBefore));
    for (const secret of SECRETS) expect(logged).not.toContain(secret);
    expect(logged).not.toContain('sha256=');
    return response;
  }

  it('Meta: the signature over the exact bytes of the escaped fixture is accepted', async () => {
    const escaped = rawFixture('meta-cloud.text-escaped.json');
    const response = await post('meta-cloud', s.key, escaped, { 'x-hub-signature-256': sign(escaped) });
    expect(response.status, response.text).toBe(200);
    expect(response.json.messages).toBe(1);
  });

  it('Meta: a bad signature, a missing header, or a re-serialized body → 401', async () => {
    const escaped = rawFixture('meta-cloud.text-escaped.json');
    const other = Buffer.from(escaped.toString('utf8').replace('wamid.', 'wamid.X'));
    await expectRefused(401, () => post('meta-cloud', s.key, other, { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }));
    await expectRefused(401, () => post('meta-cloud', s.key, other));
    // Same JSON, different bytes (the escapes decoded): Meta signed its bytes, not the data.
    const reserialized = JSON.stringify(JSON.parse(other.toString('utf8')));
    expect(reserialized).not.toBe(other.toString('utf8'));
    await expectRefused(401, () => post('meta-cloud', s.key, reserialized, { 'x-hub-signature-256': sign(other) }));
  });

  it('Green API: a wrong or missing Authorization → 401', async () => {
    const body = rawFixture('green-api.quoted.json');
    await expectRefused(401, () => post('green-api', s.key, body, { authorization: 'Bearer wrong-token' }));
    await expectRefused(401, () => post('green-api', s.key, body));
  });

  it('Fonnte: a wrong secret → 401', async () => {
    const body = json({ ...(jsonFixture('fonnte.message.json') as object), inboxid: 'fonnte-refused' });
    await expectRefused(401, () => post('fonnte', s.key, body, { 'x-fonnte-secret': 'not-the-secret' }));
    await expectRefused(401, () => post('fonnte', s.key, json({ ...JSON.parse(body), secret: 'nope' })));
  });

  it('malformed bodies → 400 naming the fields', async () => {
    const meta = rawFixture('meta-cloud.malformed.json');
    const response = await expectRefused(400, () => postMeta(s.key, meta));
    expect(JSON.parse(response.text).errors).toContainEqual(expect.objectContaining({ field: 'entry.0.changes.0.value.messages.0.from' }));
    await expectRefused(400, () => post('green-api', s.key, rawFixture('green-api.malformed.json'), { authorization: `Bearer ${GREEN_HOOK_TOKEN}` }));
    await expectRefused(400, () => post('ultramsg', s.key, rawFixture('ultramsg.malformed.json')));
    await expectRefused(400, () => post('fonnte', s.key, rawFixture('fonnte.malformed.json'), { 'x-fonnte-secret': FONNTE_SECRET }));
    const notJson = await expectRefused(400, () => post('ultramsg', s.key, '{"event_type":'));
    expect(JSON.parse(notJson.text).errors).toEqual([{ field: 'body', message: 'is not valid JSON' }]);
  });

  it('an unknown key or provider → 404', async () => {
    const body = rawFixture('ultramsg.message-received.json');
    await expectRefused(404, () => post('ultramsg', 'A'.repeat(43), body));
    await expectRefused(404, () => post('ultramsg', 'short', body));
    await expectRefused(404, () => post('sandbox', s.key, body));
  });

  // KNOWN GAP, outside this change: src/http/request-context.ts writes `path: c.req.path` in
  // every access log line, and the path holds the webhook key. The fix is there (log the route,
  // or mask the last segment under /webhooks/); this test flips to failing once it is made.
  it('the access log line does not hold the webhook key', async () => {
    const linesBefore = t.logLines.length;
    await post('ultramsg', s.key, '{}');
    expect(JSON.stringify(t.logLines.slice(linesBefore))).not.toContain(s.key);
  });

  it('a body over the limit → 413', async () => {
    await expectRefused(413, () => post('ultramsg', s.key, 'x'.repeat(70 * 1024)));
  });

  it('the /api/v1 auth does not apply, and a JWT is not what authenticates', async () => {
    const body = json({ ...(jsonFixture('ultramsg.message-received.json') as { data: object }), data: { ...(jsonFixture('ultramsg.message-received.json') as { data: object }).data, id: 'false_966512345678@c.us_NOAUTH' } });
    const response = await post('ultramsg', s.key, body);
    expect(response.status, response.text).toBe(200);
  });
});

describe("Meta's GET handshake", () => {
  it('answers the challenge for the right verify token, 403 otherwise, 404 for an unknown key', async () => {
    const s = await setup('handshake');
    const ok = await t.app.request(`/webhooks/whatsapp/meta-cloud/${s.key}?hub.mode=subscribe&hub.verify_token=${META_VERIFY_TOKEN}&hub.challenge=1158201444`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('text/plain');
    expect(await ok.text()).toBe('1158201444');
    const wrong = await t.app.request(`/webhooks/whatsapp/meta-cloud/${s.key}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444`);
    expect(wrong.status).toBe(403);
    const mode = await t.app.request(`/webhooks/whatsapp/meta-cloud/${s.key}?hub.mode=unsubscribe&hub.verify_token=${META_VERIFY_TOKEN}&hub.challenge=1`);
    expect(mode.status).toBe(403);
    const unknown = await t.app.request(`/webhooks/whatsapp/meta-cloud/${'B'.repeat(43)}?hub.mode=subscribe&hub.verify_token=${META_VERIFY_TOKEN}&hub.challenge=1`);
    expect(unknown.status).toBe(404);
  });
});

describe('delivery statuses', () => {
  it('Meta delivered → read → a late delivered: read, with both timestamps', async () => {
    const s = await setup('status');
    const outboundId = await insertOutbound(s, 'meta-cloud', META_TEXT_WAMID);
    for (const [status, at] of [
      ['delivered', 1749416405],
      ['read', 1749416410],
      ['delivered', 1749416406],
    ] as const) {
      const response = await postMeta(s.key, json(metaStatus(META_TEXT_WAMID, status, at)));
      expect(response.json).toEqual({ received: 1, messages: 0, duplicates: 0, statuses: 1, ignored: 0 });
    }
    const [row] = await rows('SELECT status, delivery_status, delivered_at, read_at FROM outbound_messages WHERE id = $1', [outboundId]);
    expect(row).toMatchObject({ status: 'sent', delivery_status: 'read' });
    expect(row.delivered_at.toISOString()).toBe(new Date(1749416405_000).toISOString());
    expect(row.read_at.toISOString()).toBe(new Date(1749416410_000).toISOString());
  });

  it('Meta skips delivered: read alone fills both timestamps', async () => {
    const s = await setup('status-skip');
    const outboundId = await insertOutbound(s, 'meta-cloud', META_TEXT_WAMID);
    await postMeta(s.key, json(metaStatus(META_TEXT_WAMID, 'read', 1749416410)));
    const [row] = await rows('SELECT delivery_status, delivered_at, read_at FROM outbound_messages WHERE id = $1', [outboundId]);
    expect(row.delivery_status).toBe('read');
    expect(row.delivered_at).not.toBeNull();
  });

  it('a late 131047 failure: the message failed, and a draft says the 24-hour window is closed (once, even if redelivered)', async () => {
    const s = await setup('status-failed');
    const outboundId = await insertOutbound(s, 'meta-cloud', META_FAILED_WAMID);
    const body = rawFixture('meta-cloud.statuses.json');
    expect((await postMeta(s.key, body)).json).toMatchObject({ statuses: 3 });
    expect((await postMeta(s.key, body)).status).toBe(200);
    const [row] = await rows('SELECT status, delivery_status, error FROM outbound_messages WHERE id = $1', [outboundId]);
    expect(row).toMatchObject({ status: 'failed', delivery_status: 'failed' });
    expect(row.error).toContain('131047');
    const drafts = await rows('SELECT reason FROM drafts WHERE tenant_id = $1', [s.tenant.id]);
    expect(drafts).toHaveLength(1);
    expect(drafts[0].reason).toContain('24-hour window');
  });

  it('Green API outgoingMessageStatus updates the green-api row only', async () => {
    const s = await setup('status-green');
    const greenId = await insertOutbound(s, 'green-api', GREEN_OUTBOUND_ID);
    const auth = { authorization: `Bearer ${GREEN_HOOK_TOKEN}` };
    expect((await post('green-api', s.key, rawFixture('green-api.status-delivered.json'), auth)).json).toMatchObject({ statuses: 1 });
    let [row] = await rows('SELECT delivery_status, delivered_at FROM outbound_messages WHERE id = $1', [greenId]);
    expect(row.delivery_status).toBe('delivered');
    await post('green-api', s.key, rawFixture('green-api.status-read.json'), auth);
    [row] = await rows('SELECT delivery_status, read_at FROM outbound_messages WHERE id = $1', [greenId]);
    expect(row.delivery_status).toBe('read');
    expect(row.read_at).not.toBeNull();
  });
});
