import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

let t: TestApp;
let tenant: TestTenant;
let token: string;
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(async () => {
  provider.register();
  t = await createTestApp();
  // An unexpected failure deep inside a handler, carrying things that must never leak.
  t.app.get('/api/v1/__explode', () => {
    throw new Error('connect to postgres://dealix_owner:hunter2@db.internal failed for +966551234567 with Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl');
  });
  tenant = await t.createTestTenant('errors');
  token = await tenant.token('admin');
});
afterAll(async () => {
  await t?.close();
  await provider.shutdown();
});

// `json` is whatever the server sent; the assertions below are its type check.
const isProblem = (response: { status: number; headers: Headers; json: any }, status: number, code: string) => {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.json).toMatchObject({ type: `urn:dealix:problem:${code}`, status, code, title: expect.any(String), detail: expect.any(String) });
  expect(response.json.correlation_id).toMatch(/^[0-9a-f]{32}$/);
  expect(response.headers.get('x-correlation-id')).toBe(response.json.correlation_id);
};

describe('every error is RFC 9457 problem+json', () => {
  it('unknown route → 404', async () => {
    isProblem(await t.request('GET', '/nowhere'), 404, 'not_found');
    isProblem(await t.request('DELETE', '/api/v1/deals', { token }), 404, 'not_found');
  });

  it('malformed JSON → 400', async () => {
    isProblem(await t.request('POST', '/api/v1/contacts', { token, rawBody: '{"phone": ', headers: { 'content-type': 'application/json' } }), 400, 'bad_request');
  });

  it('a body that is not JSON → 415', async () => {
    isProblem(await t.request('POST', '/api/v1/contacts', { token, rawBody: 'phone=1', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
  });

  it('an oversized body → 413, and nothing is written', async () => {
    const response = await t.request('POST', '/api/v1/contacts', { token, body: { phone: '0551112222', name: 'x'.repeat(100_000) } });
    isProblem(response, 413, 'payload_too_large');
    expect((await t.superuser.query(`SELECT count(*)::int AS n FROM contacts WHERE phone_e164 = '+966551112222'`)).rows[0].n).toBe(0);
  });

  it('validation failure → 422 naming each field (body, path and query)', async () => {
    const body = await t.request('POST', '/api/v1/contacts', { token, body: { phone: 'abc', preferred_language: 'fr', extra: true } });
    isProblem(body, 422, 'validation_failed');
    expect(body.json.errors.map((e: { field: string }) => e.field).sort()).toEqual(['extra', 'phone', 'preferred_language']);
    const path = await t.request('GET', '/api/v1/deals/not-a-uuid', { token });
    isProblem(path, 422, 'validation_failed');
    expect(path.json.errors).toEqual([{ field: 'path.id', message: 'must be a UUID' }]);
    const missing = await t.request('POST', '/api/v1/deals', { token, body: {} });
    expect(missing.json.errors.map((e: { field: string }) => e.field).sort()).toEqual(['contact_id', 'title']);
  });

  it('an unexpected error → generic 500 that reveals nothing; the log has the detail, redacted', async () => {
    const response = await t.request('GET', '/api/v1/__explode', { token });
    isProblem(response, 500, 'internal');
    expect(response.text).not.toMatch(/postgres|hunter2|db\.internal|966|eyJ/);
    const logged = t.logLines.filter((line) => line.correlation_id === response.json.correlation_id);
    const errorLine = logged.find((line) => line.msg === 'unhandled error');
    expect(errorLine).toBeDefined();
    const serialized = JSON.stringify(errorLine);
    expect(serialized).toContain('failed for');
    expect(serialized).not.toContain('hunter2');
    expect(serialized).not.toContain('551234567');
    expect(serialized).not.toContain('eyJzdWIiOiJ4In0');
  });
});

describe('correlation ids', () => {
  it('accepts a valid X-Correlation-Id and returns it', async () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await t.request('GET', '/api/v1/deals', { token, headers: { 'x-correlation-id': id } });
    expect(response.headers.get('x-correlation-id')).toBe(id);
  });

  it('folds a UUID into trace-id form', async () => {
    const response = await t.request('GET', '/healthz', { headers: { 'x-correlation-id': '4BF92F35-77B3-4DA6-A3CE-929D0E0E4736' } });
    expect(response.headers.get('x-correlation-id')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('replaces an invalid one with a generated id', async () => {
    for (const bad of ['hello', '00000000000000000000000000000000', 'x'.repeat(500), "'; DROP TABLE deals; --"]) {
      const response = await t.request('GET', '/healthz', { headers: { 'x-correlation-id': bad } });
      const returned = response.headers.get('x-correlation-id');
      expect(returned).toMatch(/^[0-9a-f]{32}$/);
      expect(returned).not.toBe(bad);
    }
  });

  it('generates one when absent, different per request', async () => {
    const a = (await t.request('GET', '/healthz')).headers.get('x-correlation-id');
    const b = (await t.request('GET', '/healthz')).headers.get('x-correlation-id');
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(a).not.toBe(b);
  });

  it('is the OpenTelemetry trace id of the request span', async () => {
    exporter.reset();
    const id = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    await t.request('GET', '/api/v1/deals', { token, headers: { 'x-correlation-id': id } });
    const spans = exporter.getFinishedSpans();
    const server = spans.find((span) => span.name === 'GET /api/v1/deals');
    expect(server?.spanContext().traceId).toBe(id);
    expect(server?.attributes['http.response.status_code']).toBe(200);
  });

  it('is on every log line of the request', async () => {
    const id = 'b1b2c3d4e5f60718293a4b5c6d7e8f91';
    const before = t.logLines.length;
    await t.request('POST', '/api/v1/deals', { token, body: { contact_id: '01a1ff9e-0000-7000-8000-000000000000', title: 'x' }, headers: { 'x-correlation-id': id } });
    const lines = t.logLines.slice(before);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line.correlation_id).toBe(id);
  });

  it('never logs the bearer token or phone numbers', async () => {
    const before = t.logLines.length;
    await t.request('POST', '/api/v1/contacts', { token, body: { phone: '0553334444' } });
    await t.request('POST', '/api/v1/contacts', { token, body: { phone: '0553334444' } });
    const text = JSON.stringify(t.logLines.slice(before));
    expect(text).not.toContain(token.split('.')[2]);
    expect(text).not.toContain('553334444');
  });
});

describe('OpenAPI', () => {
  it('serves an OpenAPI 3.1 document describing the API and its bearer auth', async () => {
    const response = await t.request('GET', '/openapi.json');
    expect(response.status).toBe(200);
    expect(response.json.openapi).toBe('3.1.0');
    expect(Object.keys(response.json.paths)).toEqual(
      expect.arrayContaining(['/api/v1/contacts', '/api/v1/contacts/{id}', '/api/v1/deals', '/api/v1/deals/{id}', '/api/v1/deals/{id}/transitions']),
    );
    expect(response.json.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(response.json.components.schemas.Problem).toBeDefined();
  });
});
