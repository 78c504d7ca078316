import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineFlow } from '../../src/flows/flow-definition.ts';
import type { ActionPlugin } from '../../src/gateway/task-router.ts';
import { AppError } from '../../src/http/app-error.ts';
import { createTestApp, readJson, type TestApp, type TestTenant } from '../support/test-app.ts';
import { ZAnyFlowInput } from '../support/flow-input.ts';

/**
 * Secrets at rest and in flight: approval tokens never stored outside the approver's answer,
 * responses that carry secrets never cached, every response `nosniff`, the docs page under a
 * CSP, bound SQL values never in logs or stored run errors, and problem bodies that neither
 * name constraints nor let an extension member rewrite them.
 */

const NAME = 'Ahmed Alharbi';
const TEXT = 'أبغى أعرف الأسعار لو سمحت';

/** Class B (not in the policy table): a call opens an approval request. */
const notifyPartner: ActionPlugin = {
  action: 'notify_partner',
  description: 'test plugin: class B',
  payload: z.object({ partner: z.string() }),
  flows: [defineFlow({ input: ZAnyFlowInput, name: 'action:notify_partner', version: '1', steps: [{ name: 'send', run: async () => undefined, noCompensation: { reason: 'test sink', escalate: false } }] })],
};

/** Class A: a run that waits for an approval request's decision and outputs what it was told. */
const collectSignals: ActionPlugin = {
  action: 'collect_signals',
  description: 'test plugin: waits on approval:<request_id>',
  payload: z.object({ request_id: z.uuid() }),
  flows: [
    defineFlow({
      input: ZAnyFlowInput, name: 'action:collect_signals',
      version: '1',
      steps: [
        {
          name: 'wait',
          run: async (ctx) => ({ waitFor: { signal: `approval:${(ctx.input.payload as { request_id: string }).request_id}`, timeoutMs: 60_000 } }),
          noCompensation: { reason: 'pure', escalate: false },
        },
        { name: 'use', run: async (ctx) => ({ output: { signal: ctx.signal ?? null } }), noCompensation: { reason: 'pure', escalate: false } },
      ],
    }),
  ],
};

/** Class A: a step whose query fails with the customer's name and text bound to it. */
const research: ActionPlugin = {
  action: 'research',
  description: 'test plugin: fails in SQL',
  payload: z.object({}),
  flows: [
    defineFlow({
      input: ZAnyFlowInput, name: 'action:research',
      version: '1',
      steps: [
        {
          name: 'look',
          retry: { maxAttempts: 1 },
          run: async (ctx) => {
            await ctx.db((tx) => tx.execute(sql`SELECT ${NAME}::text AS name, ${TEXT}::text AS text, 1 / ${0}::int AS boom`));
          },
          noCompensation: { reason: 'reads only', escalate: false },
        },
      ],
    }),
  ],
};

let t: TestApp;
let tenant: TestTenant;
let admin: string;
let manager: string;

beforeAll(async () => {
  t = await createTestApp({ plugins: [notifyPartner, collectSignals, research] });
  // Test-only routes behind the real middleware: failures a real route could hit.
  t.app.get('/api/v1/__db-explode', async (c) => {
    await c.var.tx.execute(sql`SELECT ${NAME}::text AS name, ${TEXT}::text AS text, ${'+966551234567'}::text AS phone, 1 / ${0}::int AS boom`);
    return c.json({});
  });
  t.app.post('/api/v1/__duplicate', async (c) => {
    await c.var.tx.execute(sql`CREATE TEMP TABLE secret_internal_table (v int CONSTRAINT secret_internal_constraint UNIQUE) ON COMMIT DROP`);
    await c.var.tx.execute(sql`INSERT INTO secret_internal_table VALUES (1), (1)`);
    return c.json({});
  });
  t.app.get('/api/v1/__extra', () => {
    throw new AppError('conflict', 'the real detail', {
      extra: { type: 'urn:evil', status: 200, title: 'OK', code: 'ok', correlation_id: 'forged', detail: 'forged', instance: '/forged', errors: [{ field: 'x', message: 'forged' }], current_stage: 'won' },
    });
  });
  tenant = await t.createTestTenant('secrets');
  admin = await tenant.token('admin');
  manager = await tenant.token('sales_manager', await tenant.addUser(['sales_manager']));
  await t.startWorker({ pollIntervalMs: 50 });
});
afterAll(async () => {
  await t?.close();
});

/** Every row of these tables as text, read past RLS. */
async function dump(tables: string[]): Promise<string> {
  const parts = [];
  for (const table of tables) parts.push(JSON.stringify((await t.superuser.query(`SELECT row_to_json(x)::text AS row FROM ${table} x`)).rows));
  return parts.join('\n');
}

describe('the approval token is never stored with a run', () => {
  it('a run waiting on approval:<id> is told the token id, never the token; GET /flows/{id} does not show it', async () => {
    const ask = await t.request('POST', '/api/v1/gateway/execute', { token: admin, body: { action: 'notify_partner', payload: { partner: 'acme' } } });
    expect(ask.json.result, ask.text).toBe('requires_approval');
    const requestId = ask.json.approval_request_id;
    const waiter = await t.request('POST', '/api/v1/gateway/execute', { token: admin, body: { action: 'collect_signals', payload: { request_id: requestId } } });
    expect(waiter.json.result, waiter.text).toBe('accepted');
    await t.waitForRun(waiter.json.flow_run_id, ['waiting'], admin);

    const approved = await t.request('POST', `/api/v1/approvals/${requestId}/approve`, { token: manager });
    expect(approved.status, approved.text).toBe(200);
    const token: string = approved.json.approval_token;
    expect(token.length).toBeGreaterThan(40);

    const run = await t.waitForRun(waiter.json.flow_run_id, ['completed'], admin);
    expect(run.output.signal).toEqual({
      name: `approval:${requestId}`,
      payload: { decision: 'approved', approver: expect.any(String), token_id: approved.json.token_id, expires_at: approved.json.expires_at },
    });
    expect(JSON.stringify(run)).not.toContain(token);
    const signature = token.split('.')[2] as string;
    const stored = await dump(['flow_signals', 'flow_runs', 'flow_checkpoints', 'decisions', 'approval_requests']);
    expect(stored).toContain(approved.json.token_id);
    expect(stored).not.toContain(signature);

    // The token still works: the approver's answer is where it lives.
    const used = await t.request('POST', '/api/v1/gateway/execute', { token: admin, body: { action: 'notify_partner', payload: { partner: 'acme' }, approval_token: token } });
    expect(used.json.result, used.text).toBe('accepted');
  });
});

describe('response headers', () => {
  it('answers carrying secrets are never stored by caches, replays included', async () => {
    const key = await t.request('POST', '/api/v1/whatsapp/webhook-key', { token: admin, body: {} });
    expect(key.status, key.text).toBe(200);
    expect(key.headers.get('cache-control')).toBe('no-store');
    const urls = await t.request('GET', '/api/v1/whatsapp/webhooks', { token: admin });
    expect(urls.status).toBe(200);
    expect(urls.headers.get('cache-control')).toBe('no-store');

    const ask = await t.request('POST', '/api/v1/gateway/execute', { token: admin, body: { action: 'notify_partner', payload: { partner: 'cache' } } });
    const headers = { 'idempotency-key': 'approve-cache-1' };
    const approved = await t.request('POST', `/api/v1/approvals/${ask.json.approval_request_id}/approve`, { token: manager, headers });
    expect(approved.status, approved.text).toBe(200);
    expect(approved.headers.get('cache-control')).toBe('no-store');
    const replay = await t.request('POST', `/api/v1/approvals/${ask.json.approval_request_id}/approve`, { token: manager, headers });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('cache-control')).toBe('no-store');
  });

  it('every response is nosniff: JSON, problems, replays, webhooks, docs, assets, metrics', async () => {
    const responses = [
      await t.request('GET', '/healthz'),
      await t.request('GET', '/metrics'),
      await t.request('GET', '/openapi.json'),
      await t.request('GET', '/docs'),
      await t.request('GET', '/docs/init.js'),
      await t.request('GET', '/docs/assets/swagger-ui.css'),
      await t.request('GET', '/nowhere'),
      await t.request('GET', '/api/v1/deals'),
      await t.request('GET', '/api/v1/deals', { token: admin }),
      await t.request('GET', '/api/v1/deals/not-a-uuid', { token: admin }),
      await t.request('GET', '/api/v1/__db-explode', { token: admin }),
      await t.request('POST', '/webhooks/whatsapp/green-api/unknown-key', { body: {} }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 404, 401, 200, 422, 500, 404]);
    for (const response of responses) expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    // The docs' static assets keep their own caching; everything else is no-store.
    expect(responses[5]?.headers.get('cache-control')).toBe('public, max-age=86400');
    for (const response of [...responses.slice(0, 5), ...responses.slice(6)]) expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('/docs has a CSP that allows only its own scripts and forbids framing; Swagger UI needs nothing else', async () => {
    const page = await t.request('GET', '/docs');
    const csp = page.headers.get('content-security-policy') ?? '';
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    // No inline script (script-src 'self' would block it), and every asset it loads is served here.
    const scripts = [...page.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(body?.trim()).toBe('');
      expect(attributes).toMatch(/src="\/docs\//);
    }
    for (const [, src] of page.text.matchAll(/(?:src|href)="([^"]+)"/g)) {
      expect(src).toMatch(/^\//);
      expect((await t.request('GET', src as string)).status, src).toBe(200);
    }
    // The bundle evaluates no strings as code (which script-src 'self' would refuse) beyond a guarded fallback.
    const init = await t.request('GET', '/docs/init.js');
    expect(init.text).toContain("url: '/openapi.json'");
    expect(init.text).toContain('validatorUrl: null');
  });
});

describe('bound SQL values never reach logs or stored errors', () => {
  it('an unhandled database error is logged with its SQL and SQLSTATE, its values redacted', async () => {
    const response = await t.request('GET', '/api/v1/__db-explode', { token: admin });
    expect(response.status).toBe(500);
    const line = t.logLines.find((l) => l.correlation_id === response.json.correlation_id && l.msg === 'unhandled error');
    expect(line).toBeDefined();
    const text = JSON.stringify(line);
    expect(text).not.toContain('Alharbi');
    expect(text).not.toContain(TEXT);
    expect(text).not.toContain('551234567');
    expect(text).toContain('Failed query');
    expect(text).toContain('22012');
    expect(text).toContain('<string 13>');
  });

  it('a flow step failing in SQL stores its error without the values', async () => {
    const started = await t.request('POST', '/api/v1/gateway/execute', { token: admin, body: { action: 'research', payload: {} } });
    expect(started.json.result, started.text).toBe('accepted');
    const run = await t.waitForRun(started.json.flow_run_id, ['failed'], admin);
    expect(run.error.message).toContain('Failed query');
    expect(run.error.message).toContain('SQLSTATE 22012');
    const stored = await dump(['flow_runs', 'flow_checkpoints', 'dead_letters']);
    expect(JSON.stringify(run)).not.toContain('Alharbi');
    expect(stored).not.toContain('Alharbi');
    expect(stored).not.toContain(TEXT);
    const logs = JSON.stringify(t.logLines);
    expect(logs).not.toContain('Alharbi');
    expect(logs).not.toContain(TEXT);
  });
});

describe('problem bodies', () => {
  it('a unique violation answers 409 without naming the constraint or the table', async () => {
    const response = await t.request('POST', '/api/v1/__duplicate', { token: admin, body: {} });
    expect(response.status, response.text).toBe(409);
    expect(response.json.code).toBe('conflict');
    expect(response.text).not.toContain('secret_internal');
  });

  it('an extension member cannot overwrite type, status, title, code, detail, correlation_id, instance or errors', async () => {
    const response = await t.request('GET', '/api/v1/__extra', { token: admin });
    expect(response.status).toBe(409);
    const body = readJson(response.text);
    expect(body).toEqual({
      type: 'urn:dealix:problem:conflict',
      title: 'Conflict',
      status: 409,
      detail: 'the real detail',
      code: 'conflict',
      correlation_id: response.headers.get('x-correlation-id'),
      instance: '/api/v1/__extra',
      current_stage: 'won',
    });
  });
});
