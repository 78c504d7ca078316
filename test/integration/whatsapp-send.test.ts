import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startFakeFonnte,
  startFakeGreenApi,
  startFakeMetaCloud,
  startFakeUltramsg,
  metaGraphError,
  greenApi400,
  type FakeFonnte,
  type FakeGreenApi,
  type FakeMetaCloud,
  type FakeUltramsg,
} from '../support/fake-whatsapp/index.ts';
import { PermanentStepError, type StepContext } from '../../src/flows/flow-definition.ts';
import { withTenant, type TenantTx } from '../../src/tenancy/with-tenant.ts';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

/**
 * Issue 5's fallback scenarios against local servers that speak each provider's protocol:
 * the tenants bring their own credentials (PUT /whatsapp/providers/{name}), pointed at the fakes.
 */
let t: TestApp;
let a: TestTenant;
let adminA: string;
let managerA: string;
let green: FakeGreenApi;
let ultra: FakeUltramsg;
let fonnte: FakeFonnte;
let meta: FakeMetaCloud;
const fakes = () => [green, ultra, fonnte, meta];

beforeAll(async () => {
  [green, ultra, fonnte, meta] = await Promise.all([startFakeGreenApi(), startFakeUltramsg(), startFakeFonnte(), startFakeMetaCloud()]);
  // A breaker that opens after 6 calls at ≥ 50 % failures and half-opens 300 ms later, so the test sees it move.
  t = await createTestApp({
    chain: { breaker: { volumeThreshold: 6, errorThresholdPercentage: 50, resetTimeout: 300 } },
    // The fakes listen on loopback over http: only an operator-allowed origin may be that.
    whatsapp: { allowedApiOrigins: [green, ultra, fonnte, meta].map((fake) => fake.url) },
  });
  a = await t.createTestTenant('wa-send');
  adminA = await a.token('admin');
  managerA = await a.token('sales_manager', await a.addUser(['sales_manager']));
  const credentials = {
    'green-api': { instance_id: green.instanceId, token: green.token, api_url: green.url },
    ultramsg: { instance_id: ultra.instanceId, token: ultra.token, api_url: ultra.url },
    fonnte: { token: fonnte.token, api_url: fonnte.url },
    'meta-cloud': { access_token: meta.accessToken, phone_number_id: meta.phoneNumberId, api_url: meta.url, api_version: meta.apiVersion },
  };
  for (const [name, body] of Object.entries(credentials)) {
    const put = await t.request('PUT', `/api/v1/whatsapp/providers/${name}`, { token: adminA, body });
    expect(put.status, put.text).toBe(200);
  }
  // Free-text sends to any contact in any stage: this file is about the providers, not the policy.
  const grant = await t.request('POST', '/api/v1/standing-approvals', {
    token: managerA,
    body: { action: 'send_whatsapp', conditions: {}, expires_at: new Date(Date.now() + 3_600_000).toISOString() },
  });
  expect(grant.status, grant.text).toBe(201);
  await t.startWorker({ pollIntervalMs: 50 });
});
afterAll(async () => {
  await t?.close();
  await Promise.all(fakes().map((fake) => fake?.close()));
});

const rows = async (sql: string, params: unknown[] = []) => (await t.superuser.query(sql, params)).rows;
let phone = 0;

/** A contact who wrote to us just now (Meta's 24-hour window is open) unless `wrote` is false. */
async function contact(token: string, tenant: TestTenant, wrote = true): Promise<string> {
  phone++;
  const created = await t.request('POST', '/api/v1/contacts', { token, body: { phone: `05544${String(phone).padStart(5, '0')}`, name: 'عبدالله' } });
  expect(created.status, created.text).toBe(201);
  if (wrote) {
    await t.superuser.query(`INSERT INTO inbound_messages (tenant_id, contact_id, text, intent, received_at) VALUES ($1, $2, 'هلا', 'greeting', now())`, [
      tenant.id,
      created.json.id,
    ]);
  }
  return created.json.id;
}

async function send(contactId: string, text = 'هلا والله، هذي رسالة تجربة ✅', token = adminA) {
  const response = await t.request('POST', '/api/v1/gateway/execute', { token, body: { action: 'send_whatsapp', payload: { contact_id: contactId, text } } });
  expect(response.status, response.text).toBe(202);
  expect(response.json.result).toBe('accepted');
  return response.json.flow_run_id as string;
}

const attemptsOf = async (runId: string) =>
  (await rows(`SELECT provider, outcome, code FROM whatsapp_send_attempts WHERE flow_run_id = $1 ORDER BY started_at, id`, [runId])).map(
    (row) => `${row.provider}:${row.outcome}${row.code ? `:${row.code}` : ''}`,
  );
const outboundOf = async (runId: string) => (await rows('SELECT * FROM outbound_messages WHERE flow_run_id = $1', [runId]))[0];
const resetFakes = () => fakes().forEach((fake) => fake.reset());

describe('sending through the fallback chain', () => {
  it('accepted by the first provider: nobody else is called, the row says who sent it', async () => {
    resetFakes();
    const run = await send(await contact(adminA, a));
    await t.waitForRun(run, ['completed'], adminA);
    expect(await attemptsOf(run)).toEqual(['green-api:accepted']);
    expect(await outboundOf(run)).toMatchObject({ status: 'sent', provider: 'green-api', external_id: expect.stringMatching(/^3EB0/), delivery_status: 'sent' });
    expect(fakes().map((fake) => fake.requests.length)).toEqual([1, 0, 0, 0]);
    expect(JSON.parse(green.requests[0]?.rawBody ?? '{}').message).toBe('هلا والله، هذي رسالة تجربة ✅');
  });

  it('first down (503): the second sends, once', async () => {
    resetFakes();
    green.respondWith({ status: 503 });
    const run = await send(await contact(adminA, a));
    await t.waitForRun(run, ['completed'], adminA);
    expect(await attemptsOf(run)).toEqual(['green-api:transient:http_503', 'ultramsg:accepted']);
    expect(await outboundOf(run)).toMatchObject({ status: 'sent', provider: 'ultramsg' });
    expect(fakes().map((fake) => fake.requests.length)).toEqual([1, 1, 0, 0]);
  });

  it('a permanent error (invalid number) stops the chain: no fallback, the message fails', async () => {
    resetFakes();
    green.respondWith(greenApi400('bad request data'));
    const run = await send(await contact(adminA, a));
    await t.waitForRun(run, ['failed'], adminA);
    expect(await attemptsOf(run)).toEqual([expect.stringMatching(/^green-api:permanent/)]);
    expect(await outboundOf(run)).toMatchObject({ status: 'failed', provider: 'green-api' });
    expect(fakes().map((fake) => fake.requests.length)).toEqual([1, 0, 0, 0]);
  });

  it('all down: retried with backoff, then a dead letter; the breakers open; replayed later, it is sent exactly once', async () => {
    resetFakes();
    // Three flow attempts × four providers, all failing in different documented ways.
    for (let i = 0; i < 3; i++) {
      green.respondWith({ status: 502 });
      ultra.respondWith({ status: 500 });
      fonnte.respondWith({ status: 429, headers: { 'retry-after': '1' } });
      meta.respondWith(metaGraphError(130429));
    }
    const run = await send(await contact(adminA, a));
    await t.waitForRun(run, ['failed'], adminA);
    const attempts = await attemptsOf(run);
    expect(attempts.filter((attempt) => attempt.includes(':accepted'))).toEqual([]);
    expect(attempts.slice(0, 4)).toEqual(['green-api:transient:http_502', 'ultramsg:transient:http_500', 'fonnte:transient:http_429', 'meta-cloud:transient:130429']);
    const [letter] = await rows('SELECT * FROM dead_letters WHERE run_id = $1', [run]);
    expect(letter).toBeDefined();
    expect(await outboundOf(run)).toMatchObject({ status: 'cancelled' });

    const circuit = async (): Promise<string> =>
      (await t.request('GET', '/api/v1/os/whatsapp-providers', { token: adminA })).json.data.find((p: { name: string }) => p.name === 'green-api').circuit;
    // Tripped: open, or already half-open if its 300 ms reset passed before this read (a loaded
    // machine); either way not closed. No timing is assumed in either direction.
    expect(['open', 'half_open']).toContain(await circuit());

    // The providers recover; once the breaker lets its half-open trial through, the replay takes it.
    resetFakes();
    for (let polls = 0; (await circuit()) !== 'half_open'; polls++) {
      if (polls > 200) throw new Error('the green-api breaker never half-opened');
      await sleep(50);
    }
    const replay = await t.request('POST', `/api/v1/dead-letters/${letter.id}/replay`, { token: adminA });
    expect(replay.status, replay.text).toBeLessThan(300);
    const replayRun = replay.json.run?.id ?? replay.json.id ?? replay.json.flow_run_id;
    await t.waitForRun(replayRun, ['completed'], adminA);
    expect(await outboundOf(replayRun)).toMatchObject({ status: 'sent', provider: 'green-api' });
    expect(fakes().reduce((sum, fake) => sum + fake.requests.length, 0)).toBe(1);
    const after = await t.request('GET', '/api/v1/os/whatsapp-providers', { token: adminA });
    expect(after.json.data.find((p: { name: string }) => p.name === 'green-api').circuit).toBe('closed');
  });
});

describe('a send resumed after a crash', () => {
  /** The real send step, run as the engine runs it on resume: the provider side effect was never marked done. */
  async function resumeSend(contactId: string, outboundId: string, runId: string) {
    const step = t.router.get('send_whatsapp')?.flows[0]?.steps.find((candidate) => candidate.name === 'send');
    if (!step) throw new Error('no send step');
    const ctx = {
      runId,
      tenantId: a.id,
      flowName: 'action:send_whatsapp',
      stepName: 'send',
      attempt: 2,
      input: { action: 'send_whatsapp', actor: 'test', payload: { contact_id: contactId, text: 'resumed hello' } },
      state: { outbound_id: outboundId },
      correlationId: null,
      logger: t.logger,
      signal: undefined,
      waitTimedOut: false,
      db: <T>(work: (tx: TenantTx) => Promise<T>) => withTenant({ pool: t.appPool, tenantId: a.id }, work),
      sideEffect: <T>(name: string, call: (key: string) => Promise<T>) => call(`${runId}:send:${name}`),
    } as unknown as StepContext;
    return step.run(ctx);
  }
  async function queued(contactId: string, key: string): Promise<string> {
    const [row] = (
      await t.superuser.query(
        `INSERT INTO outbound_messages (tenant_id, contact_id, to_e164, body, idempotency_key) SELECT $1, id, phone_e164, 'resumed hello', $3 FROM contacts WHERE id = $2 RETURNING id`,
        [a.id, contactId, key],
      )
    ).rows;
    return row.id;
  }
  const attempt = (outboundId: string, provider: string, outcome: string, externalId: string | null = null) =>
    t.superuser.query(
      `INSERT INTO whatsapp_send_attempts (tenant_id, outbound_id, provider, outcome, external_id, started_at) VALUES ($1, $2, $3, $4, $5, now() - interval '1 second')`,
      [a.id, outboundId, provider, outcome, externalId],
    );

  it('after the provider accepted (the process died before marking it done): nobody is called again', async () => {
    resetFakes();
    const contactId = await contact(adminA, a);
    const outboundId = await queued(contactId, 'resume-accepted');
    await attempt(outboundId, 'ultramsg', 'accepted', '77');
    const outcome = await resumeSend(contactId, outboundId, '00000000-0000-7000-8000-00000000a001');
    expect(outcome).toMatchObject({ output: { status: 'sent', provider: 'ultramsg', external_id: '77' } });
    expect(fakes().map((fake) => fake.requests.length)).toEqual([0, 0, 0, 0]);
  });

  it('mid-call (a started attempt with no answer): delivery unknown, nobody is called again, the run fails for a person', async () => {
    resetFakes();
    const contactId = await contact(adminA, a);
    const outboundId = await queued(contactId, 'resume-started');
    await attempt(outboundId, 'fonnte', 'started');
    // Fonnte may have the message already and does not deduplicate on our key: a second call
    // (to it or to anyone) could reach the lead twice.
    await expect(resumeSend(contactId, outboundId, '00000000-0000-7000-8000-00000000a002')).rejects.toThrow(PermanentStepError);
    expect(fakes().map((fake) => fake.requests.length)).toEqual([0, 0, 0, 0]);
    const [row] = await rows(`SELECT status, provider, error FROM outbound_messages WHERE id = $1`, [outboundId]);
    expect(row).toMatchObject({ status: 'delivery_unknown', provider: 'fonnte', error: expect.stringMatching(/^delivery unknown: handed to fonnte at /) });
    const attempts = await rows(`SELECT outcome FROM whatsapp_send_attempts WHERE outbound_id = $1 ORDER BY started_at`, [outboundId]);
    expect(attempts.map((entry) => entry.outcome)).toEqual(['started']);
    // A retry or a dead-letter replay of the step does not send it either.
    await expect(resumeSend(contactId, outboundId, '00000000-0000-7000-8000-00000000a002')).rejects.toThrow(/delivery unknown/);
    expect(fakes().map((fake) => fake.requests.length)).toEqual([0, 0, 0, 0]);
  });

  it('delivery unknown shows on the deal timeline', async () => {
    resetFakes();
    const contactId = await contact(adminA, a);
    const deal = await t.request('POST', '/api/v1/deals', { token: adminA, body: { contact_id: contactId, title: 'unknown delivery' } });
    expect(deal.status, deal.text).toBe(201);
    const [row] = (
      await t.superuser.query(
        `INSERT INTO outbound_messages (tenant_id, contact_id, deal_id, to_e164, body, idempotency_key) SELECT $1, id, $3, phone_e164, 'resumed hello', 'resume-timeline' FROM contacts WHERE id = $2 RETURNING id`,
        [a.id, contactId, deal.json.id],
      )
    ).rows;
    await attempt(row.id, 'ultramsg', 'started');
    await expect(resumeSend(contactId, row.id, '00000000-0000-7000-8000-00000000a003')).rejects.toThrow(PermanentStepError);
    const timeline = await t.request('GET', `/api/v1/deals/${deal.json.id}/timeline`, { token: adminA });
    expect(timeline.status, timeline.text).toBe(200);
    const item = timeline.json.data.find((entry: { kind: string; id?: string }) => entry.kind === 'outbound_message');
    expect(item).toMatchObject({ status: 'delivery_unknown' });
  });
});

describe('delivery statuses', () => {
  it('a status that arrives before the send has recorded its provider id is applied once the send commits', async () => {
    resetFakes();
    const key = await t.request('POST', '/api/v1/whatsapp/webhook-key', { token: adminA, body: {} });
    expect(key.status, key.text).toBe(200);
    green.respondWith({ status: 200, body: { idMessage: 'EARLYSTATUS0001' } });
    const early = await t.app.request(key.json.urls['green-api'], {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        typeWebhook: 'outgoingMessageStatus',
        chatId: '966512345678@c.us',
        instanceData: { idInstance: Number(green.instanceId), wid: '966501234567@c.us', typeInstance: 'whatsapp' },
        timestamp: Math.floor(Date.now() / 1000),
        idMessage: 'EARLYSTATUS0001',
        status: 'delivered',
        sendByApi: true,
      }),
    });
    expect(early.status, await early.clone().text()).toBe(200);
    expect(await early.json()).toMatchObject({ statuses: 1 });
    const [pending] = await rows(`SELECT processed_at FROM whatsapp_webhook_events WHERE provider_message_id = 'EARLYSTATUS0001'`);
    expect(pending.processed_at).toBeNull();

    const run = await send(await contact(adminA, a));
    await t.waitForRun(run, ['completed'], adminA);
    expect(await outboundOf(run)).toMatchObject({ external_id: 'EARLYSTATUS0001', delivery_status: 'delivered', delivered_at: expect.any(Date) });
    const [applied] = await rows(`SELECT processed_at FROM whatsapp_webhook_events WHERE provider_message_id = 'EARLYSTATUS0001'`);
    expect(applied.processed_at).not.toBeNull();
  });
});

describe("Meta's 24-hour window", () => {
  let b: TestTenant;
  let adminB: string;
  beforeAll(async () => {
    b = await t.createTestTenant('wa-send-meta-only');
    adminB = await b.token('admin');
    const put = await t.request('PUT', '/api/v1/whatsapp/providers/meta-cloud', {
      token: adminB,
      body: { access_token: meta.accessToken, phone_number_id: meta.phoneNumberId, api_url: meta.url, api_version: meta.apiVersion, app_secret: 'shh-app-secret' },
    });
    expect(put.status, put.text).toBe(200);
    const managerB = await b.token('sales_manager', await b.addUser(['sales_manager']));
    await t.request('POST', '/api/v1/standing-approvals', {
      token: managerB,
      body: { action: 'send_whatsapp', conditions: {}, expires_at: new Date(Date.now() + 3_600_000).toISOString() },
    });
  });

  it('outside the window free text is not sent: the message fails and a draft says why', async () => {
    resetFakes();
    const contactId = await contact(adminB, b, false);
    const run = await send(contactId, 'hello again', adminB);
    await t.waitForRun(run, ['completed'], adminB);
    expect(meta.requests).toHaveLength(0);
    expect(await attemptsOf(run)).toEqual(['meta-cloud:skipped:outside_24h_window']);
    expect(await outboundOf(run)).toMatchObject({ status: 'failed', error: expect.stringContaining('outside_24h_window') });
    const [draft] = await rows('SELECT * FROM drafts WHERE contact_id = $1', [contactId]);
    expect(draft).toMatchObject({ text: 'hello again', status: 'pending', reason: expect.stringContaining('24-hour window is closed') });
  });

  it('outside the window an approved template is sent instead', async () => {
    resetFakes();
    const contactId = await contact(adminB, b, false);
    const response = await t.request('POST', '/api/v1/gateway/execute', {
      token: adminB,
      body: { action: 'send_whatsapp', payload: { contact_id: contactId, text: 'hello', whatsapp_template: { name: 'price_followup', language: 'ar', parameters: ['عبدالله'] } } },
    });
    await t.waitForRun(response.json.flow_run_id, ['completed'], adminB);
    expect(await outboundOf(response.json.flow_run_id)).toMatchObject({ status: 'sent', provider: 'meta-cloud' });
    expect(JSON.parse(meta.requests[0]?.rawBody ?? '{}')).toMatchObject({
      type: 'template',
      template: { name: 'price_followup', language: { code: 'ar' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'عبدالله' }] }] },
    });
  });

  it('131047 from Meta (window closed after all) also becomes a draft', async () => {
    resetFakes();
    meta.respondWith(metaGraphError(131047));
    const contactId = await contact(adminB, b, true);
    const run = await send(contactId, 'are you there?', adminB);
    await t.waitForRun(run, ['completed'], adminB);
    expect(await outboundOf(run)).toMatchObject({ status: 'failed', error: expect.stringContaining('131047') });
    expect((await rows('SELECT reason FROM drafts WHERE contact_id = $1', [contactId]))[0].reason).toMatch(/131047/);
  });
});

describe('credentials and health', () => {
  it('are never returned, logged or stored in clear; the status lists the chain with its record', async () => {
    const status = await t.request('GET', '/api/v1/os/whatsapp-providers', { token: adminA });
    expect(status.status).toBe(200);
    expect(status.json.data.map((p: { name: string; position: number | null; source: string | null }) => [p.name, p.position, p.source])).toEqual([
      ['green-api', 1, 'tenant'],
      ['ultramsg', 2, 'tenant'],
      ['fonnte', 3, 'tenant'],
      ['meta-cloud', 4, 'tenant'],
      ['sandbox', null, null],
    ]);
    const greenStatus = status.json.data[0];
    expect(greenStatus).toMatchObject({ configured: true, last_success_at: expect.any(String), last_error: { code: expect.any(String) }, p50_latency_ms: expect.any(Number) });
    expect(greenStatus.error_rate_24h).toBeGreaterThan(0);
    expect(greenStatus.error_rate_24h).toBeLessThan(1);

    const secrets = [green.token, ultra.token, fonnte.token, meta.accessToken, 'shh-app-secret'];
    const everything = JSON.stringify(status.json) + JSON.stringify(t.logLines);
    for (const secret of secrets) expect(everything).not.toContain(secret);
    const stored = await rows('SELECT sealed FROM whatsapp_credentials');
    for (const row of stored) for (const secret of secrets) expect(row.sealed).not.toContain(secret);
    // The failed sends above logged their errors; the Green API token is in its URL path, and still absent.
    expect(t.logLines.some((line) => JSON.stringify(line).includes('green-api'))).toBe(true);
  });

  it('refuses bad settings naming the field, and only an admin sets them', async () => {
    const bad = await t.request('PUT', '/api/v1/whatsapp/providers/meta-cloud', { token: adminA, body: { access_token: 'x', phone_number_id: 'abc' } });
    expect(bad.status).toBe(422);
    expect(bad.json.errors).toEqual([{ field: 'phone_number_id', message: 'must be the numeric phone number id' }]);
    expect((await t.request('PUT', '/api/v1/whatsapp/providers/fonnte', { token: managerA, body: { token: 'x' } })).status).toBe(403);
    expect((await t.request('PUT', '/api/v1/whatsapp/providers/telegram', { token: adminA, body: { token: 'x' } })).status).toBe(422);
  });

  it('another tenant sees none of this tenant’s providers', async () => {
    const c = await t.createTestTenant('wa-send-none');
    const status = await t.request('GET', '/api/v1/os/whatsapp-providers', { token: await c.token('admin') });
    expect(status.json.data.filter((p: { configured: boolean }) => p.configured).map((p: { name: string }) => p.name)).toEqual(['sandbox']);
  });
});

describe('POST /os/test-send', () => {
  it('needs an approval (class B); with the token it answers 202 with the run to poll, whose output lists the attempts', async () => {
    resetFakes();
    const first = await t.request('POST', '/api/v1/os/test-send', { token: managerA, body: { to: '0551239876', text: 'test ✅' } });
    // The tenant's standing approval is for send_whatsapp only: a test send needs its own approval.
    expect(first.status, first.text).toBe(202);
    expect(first.json).toMatchObject({ result: 'requires_approval', approval_request_id: expect.any(String) });
    const approved = await t.request('POST', `/api/v1/approvals/${first.json.approval_request_id}/approve`, { token: adminA });
    expect(approved.status, approved.text).toBe(200);
    green.respondWith({ status: 503 });
    const sent = await t.request('POST', '/api/v1/os/test-send', {
      token: managerA,
      body: { to: '0551239876', text: 'test ✅', approval_token: approved.json.approval_token },
    });
    // Answered at once: the send runs as a durable flow, polled at the Location.
    expect(sent.status, sent.text).toBe(202);
    expect(sent.json).toMatchObject({ result: 'accepted', run_status: 'pending', flow_run_id: expect.any(String) });
    expect(sent.headers.get('location')).toBe(`/api/v1/flows/${sent.json.flow_run_id}`);
    const run = await t.waitForRun(sent.json.flow_run_id, ['completed', 'failed'], managerA);
    expect(run.status).toBe('completed');
    expect(run.output.result).toMatchObject({ kind: 'accepted', provider: 'ultramsg' });
    expect(run.output.attempts.map((attempt: { provider: string; outcome: string }) => `${attempt.provider}:${attempt.outcome}`)).toEqual([
      'green-api:transient',
      'ultramsg:accepted',
    ]);
    expect(ultra.requests).toHaveLength(1);
  });
});
