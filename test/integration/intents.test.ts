import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

let t: TestApp;
let tenant: TestTenant;
let admin: string;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTestTenant('intents');
  admin = await tenant.token('admin');
});
afterAll(async () => t?.close());

const classify = (text: unknown, token = admin) => t.request('POST', '/api/v1/intents/classify', { token, body: { text } });

describe('POST /api/v1/intents/classify', () => {
  it('requires a token and the intents:classify permission', async () => {
    expect((await t.request('POST', '/api/v1/intents/classify', { body: { text: 'hi' } })).status).toBe(401);
    const executive = await classify('hi', await tenant.token('executive'));
    expect(executive.status).toBe(403);
    expect(executive.json.code).toBe('forbidden');
    for (const role of ['sales_manager', 'sales_rep', 'system'] as const) expect((await classify('hi', await tenant.token(role))).status).toBe(200);
  });

  it('answers 422 on empty, blank, too long or missing text', async () => {
    for (const body of [{ text: '' }, { text: '   ' }, { text: 'x'.repeat(4001) }, {}, { text: 42 }]) {
      const response = await t.request('POST', '/api/v1/intents/classify', { token: admin, body });
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(response.json.errors[0].field).toBe('text');
    }
    expect((await classify('x'.repeat(4000))).status).toBe(200);
  });

  it('classifies Arabic, English, Arabizi and mixed messages', async () => {
    const cases: Array<[string, string, string]> = [
      ['كم سعر الباقه الشهريه؟', 'price_inquiry', 'ar'],
      ['شيلوا رقمي لو سمحت', 'opt_out', 'ar'],
      ['حوّلت المبلغ على حسابكم', 'payment_confirmation', 'ar'],
      ['السلام عليكم ورحمة الله', 'greeting', 'ar'],
      ['stop sending me messages', 'opt_out', 'en'],
      ['wrong number', 'wrong_contact', 'en'],
      ['can we book a demo tomorrow?', 'meeting_request', 'en'],
      ['abgha as3ar', 'price_inquiry', 'arabizi'],
      ['ana mo mohtam', 'not_interested', 'arabizi'],
      ['la trasloni', 'opt_out', 'arabizi'],
      ['ابغى demo بكرة', 'meeting_request', 'mixed'],
    ];
    for (const [text, intent, language] of cases) {
      const response = await classify(text);
      expect(response.status, text).toBe(200);
      expect(response.json, text).toMatchObject({ intent, language });
      expect(response.json.confidence).toBeGreaterThanOrEqual(0);
      expect(response.json.confidence).toBeLessThanOrEqual(1);
      expect(typeof response.json.reason).toBe('string');
    }
  });

  it('does not take "stop" in another sense for an opt-out', async () => {
    for (const text of ['the bus stop near your office?', 'وقفت السيارة قدام مكتبكم', "don't stop the offer"]) {
      expect((await classify(text)).json.intent, text).not.toBe('opt_out');
    }
  });

  it('is in the OpenAPI document', async () => {
    const document = (await t.request('GET', '/openapi.json')).json;
    expect(document.paths['/api/v1/intents/classify'].post.responses['200']).toBeDefined();
    expect(document.components.schemas.IntentClassification.properties.intent.enum).toContain('wrong_contact');
  });
});

describe('npx dealix classify', () => {
  it('prints the classification as JSON without configuration and without opening the database', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'dealix-classify-'));
    await rm(dataDir, { recursive: true });
    // No DATABASE_URL and a data dir that does not exist: any attempt to open the database would create it.
    const env = { PATH: `${path.join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: os.homedir(), DEALIX_DATA_DIR: dataDir };
    const child = spawn(process.execPath, ['bin/dealix.js', 'classify', 'abgha as3ar el ba8a'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ intent: 'price_inquiry', language: 'arabizi' });
    expect(existsSync(dataDir)).toBe(false);
  });
});
