import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonFixture } from '../fixtures/whatsapp-webhooks/load-fixture.ts';
import { changedTables, tenantTablesChecksum, type Checksums } from '../support/db-checksum.ts';
import { createTenantFixtures, fillPath, notifyPartner } from '../support/route-fixtures.ts';
import {
  arbitraryFromSchema,
  encodeLoose,
  HOSTILE_NUMBERS,
  HOSTILE_STRINGS,
  hostileValue,
  ONE_MEGABYTE,
  RAW_VALUES,
  toJsonText,
  type JsonSchema,
  type SchemaContext,
} from '../support/schema-arbitrary.ts';
import { createTestApp } from '../support/test-app.ts';

/**
 * Every operation of /openapi.json with a body or parameters, called with values generated from
 * its schemas (fast-check, fixed seed) and with hostile values in every slot: body fields, the
 * whole body, path and query parameters; and the public webhook routes with provider-shaped
 * bodies. The property: never a 5xx, and a 4xx changes no tenant-scoped table.
 * `FUZZ_RUNS` sets the generated calls per operation (default small, for `npm test`; `npm run fuzz` runs more).
 */

const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 3);
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
/** With a larger budget, every hostile value goes into every slot; by default each value into one slot. */
const FULL_SWEEP = FUZZ_RUNS >= 20;

/**
 * Cases that fail today because of defects being fixed on other branches (issue 9 item numbers).
 * They run as `it.fails`: when the fix lands the case passes, the suite turns red, and the entry is deleted.
 */
const KNOWN_FAILURES: Array<{ operation: string; case: string; item: number }> = [];

const META_APP_SECRET = 'fuzz-meta-app-secret';
const GREEN_HOOK_TOKEN = 'fuzz-green-hook-token';
const FONNTE_SECRET = 'fuzz-fonnte-secret';

// Top-level await: the cases are generated from the document the app serves.
const t = await createTestApp({
  plugins: [notifyPartner],
  whatsapp: {
    providers: {
      'meta-cloud': { access_token: 'fuzz-meta-token', phone_number_id: '106540352242922', app_secret: META_APP_SECRET, verify_token: 'fuzz-verify' },
      'green-api': { instance_id: '1101000001', token: 'fuzz-green-token', webhook_token: GREEN_HOOK_TOKEN },
      ultramsg: { instance_id: 'instance1150', token: 'fuzz-ultra-token' },
      fonnte: { token: 'fuzz-fonnte-token', webhook_secret: FONNTE_SECRET },
    },
  },
});
const home = await createTenantFixtures(t, 'fuzz-home', '05544000');
const other = await createTenantFixtures(t, 'fuzz-other', '05555000');
const admin = home.tokens.admin;

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}
interface DocOperation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}
const doc = (await t.request('GET', '/openapi.json')).json as { paths: Record<string, Record<string, DocOperation>>; components: { schemas: Record<string, JsonSchema> } };
const ctx: SchemaContext = { components: doc.components.schemas, ids: [...home.allIds(), ...other.allIds(), home.tenant.id, home.userIds.sales_rep] };

interface Operation {
  key: string;
  method: string;
  path: string;
  params: Parameter[];
  body: JsonSchema | undefined;
}
const operations: Operation[] = Object.entries(doc.paths)
  .flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      key: `${method.toUpperCase()} ${path}`,
      method: method.toUpperCase(),
      path,
      params: (op.parameters ?? []).filter((p) => p.in !== 'header'),
      body: op.requestBody?.content['application/json']?.schema,
    })),
  )
  .filter((op) => op.body || op.params.length > 0);

let requests = 0;
let last: Checksums = await tenantTablesChecksum(t.superuser, 'fast');
const started = Date.now();
afterAll(async () => {
  console.log(`schema fuzz: ${requests} requests over ${operations.length} operations and 4 webhook providers, FUZZ_RUNS=${FUZZ_RUNS}, seed ${SEED}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`schema fuzz: ${(timing.request / 1000).toFixed(1)} s in requests, ${(timing.checksum / 1000).toFixed(1)} s in checksums; slowest call ${timing.slowest.toFixed(0)} ms: ${timing.slowestCall}`);
  await t.close();
});

interface Call {
  method: string;
  url: string;
  body?: string;
  headers?: Record<string, string>;
  token?: string;
}

/** Sends one call and returns what broke the property, if anything: a 5xx, or a 4xx that changed a table. */
const timing = { request: 0, checksum: 0, slowest: 0, slowestCall: '' };
async function probe(call: Call): Promise<string | undefined> {
  requests++;
  const t0 = performance.now();
  const response = await t.request(call.method, call.url, {
    ...(call.token ? { token: call.token } : {}),
    ...(call.body !== undefined ? { rawBody: call.body } : {}),
    headers: { ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}), ...call.headers },
  });
  const t1 = performance.now();
  const now = await tenantTablesChecksum(t.superuser, 'fast');
  timing.request += t1 - t0;
  timing.checksum += performance.now() - t1;
  if (t1 - t0 > timing.slowest) Object.assign(timing, { slowest: t1 - t0, slowestCall: `${call.method} ${call.url.slice(0, 100)} ${call.body?.slice(0, 100)} → ${response.status}` });
  const changed = changedTables(last, now);
  last = now;
  const shown = `${call.method} ${call.url.slice(0, 160)} ${call.body === undefined ? '' : call.body.slice(0, 200)} → ${response.status} ${response.text.slice(0, 200)}`;
  if (response.status >= 500) return `5xx: ${shown}`;
  if (response.status >= 400) {
    // A gateway refusal commits its decision row, by design ("every call leaves a decision").
    const allowed = response.json?.decision || response.json?.decision_id ? ['decisions'] : [];
    const unexpected = changed.filter((table) => !allowed.includes(table));
    if (unexpected.length > 0) return `4xx changed ${unexpected.join(', ')}: ${shown}`;
  }
  return undefined;
}

async function expectProperty(calls: Iterable<Call>) {
  const failures: string[] = [];
  for (const call of calls) {
    const failure = await probe(call);
    if (failure) failures.push(failure);
  }
  expect(failures.slice(0, 8), `${failures.length} calls broke the property`).toEqual([]);
}

function check(operation: string, caseName: string, body: () => Promise<void>) {
  const known = KNOWN_FAILURES.find((entry) => entry.operation === operation && entry.case === caseName);
  (known ? it.fails : it)(`${operation} — ${caseName}${known ? ` (known failure, issue 9 item ${known.item})` : ''}`, body, 120_000);
}

const seedOf = (text: string) => [...text].reduce((hash, char) => (hash * 31 + char.charCodeAt(0)) | 0, SEED);

/** A parameter's value: for a path, the fixture record most of the time. */
function parameterArbitrary(op: Operation, parameter: Parameter): fc.Arbitrary<string> {
  const schema = fc.oneof(arbitraryFromSchema(parameter.schema, ctx), fc.constantFrom(...HOSTILE_STRINGS)).map((value) => (typeof value === 'string' ? value : toJsonText(value)));
  if (parameter.in !== 'path') return schema;
  const fixture = decodeURIComponent(fillPath(`{${parameter.name}}`.replace(/^/, op.path.slice(0, op.path.indexOf(`{${parameter.name}}`))), home).slice(op.path.indexOf(`{${parameter.name}}`)).split('/')[0]!);
  return fc.oneof({ weight: 4, arbitrary: fc.constant(fixture) }, { weight: 2, arbitrary: schema }, { weight: 1, arbitrary: fc.constantFrom(...ctx.ids) });
}

function urlOf(op: Operation, path: Record<string, string>, query: Record<string, string>): string {
  const filled = op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => encodeLoose(path[name] ?? ''));
  const search = Object.entries(query)
    .map(([name, value]) => `${encodeLoose(name)}=${encodeLoose(value)}`)
    .join('&');
  return search ? `${filled}?${search}` : filled;
}

const validPath = (op: Operation) => Object.fromEntries(op.params.filter((p) => p.in === 'path').map((p) => [p.name, decodeURIComponent(fillPath(op.path, home).split('/')[op.path.split('/').indexOf(`{${p.name}}`)]!)]));

function callArbitrary(op: Operation): fc.Arbitrary<Call> {
  const path = fc.record(Object.fromEntries(op.params.filter((p) => p.in === 'path').map((p) => [p.name, parameterArbitrary(op, p)])));
  const queryParams = op.params.filter((p) => p.in === 'query');
  const query = fc.record(Object.fromEntries(queryParams.map((p) => [p.name, parameterArbitrary(op, p)])), { requiredKeys: queryParams.filter((p) => p.required).map((p) => p.name) });
  const body = op.body ? arbitraryFromSchema(op.body, ctx).map(toJsonText) : fc.constant(undefined);
  const idempotencyKey = fc.option(fc.oneof(fc.stringMatching(/^[\x21-\x7e]{1,40}$/), fc.constant('k'.repeat(300)), fc.constant('é')), { freq: 4 });
  return fc.record({ path, query, body, idempotencyKey }).map(({ path, query, body, idempotencyKey }) => ({
    method: op.method,
    url: urlOf(op, path as Record<string, string>, query as Record<string, string>),
    token: admin,
    ...(body !== undefined ? { body } : {}),
    ...(idempotencyKey !== null ? { headers: { 'idempotency-key': idempotencyKey } } : {}),
  }));
}

/** The hostile values every slot is tried with (strings, numbers, shapes and raw JSON). */
const SWEEP_VALUES: unknown[] = [...HOSTILE_STRINGS.slice(0, 8), ...HOSTILE_NUMBERS.filter((n) => typeof n === 'string' || Math.abs(n as number) >= 2 ** 53), ...RAW_VALUES];

function resolveRef(schema: JsonSchema): JsonSchema {
  return schema.$ref ? resolveRef(ctx.components[schema.$ref.split('/').at(-1)!]!) : schema;
}

/** One hostile value per call, in one slot at a time: each body field, the whole body, each parameter. */
function* sweep(op: Operation): Generator<Call> {
  const base = op.body ? fc.sample(arbitraryFromSchema(op.body, { ...ctx, clean: true }), { seed: seedOf(op.key), numRuns: 1 })[0] : undefined;
  const baseObject = base && typeof base === 'object' && !Array.isArray(base) ? (base as Record<string, unknown>) : {};
  const bodySchema = op.body ? resolveRef(op.body) : undefined;
  const bodyFields = Object.keys(bodySchema?.properties ?? {});
  const path = validPath(op);
  type Slot = (value: unknown) => Call;
  const slots: Slot[] = [];
  const call = (body: string | undefined, pathParams = path, query: Record<string, string> = {}): Call => ({ method: op.method, url: urlOf(op, pathParams, query), token: admin, ...(body !== undefined ? { body } : {}) });
  for (const field of bodyFields) {
    slots.push((value) => call(toJsonText({ ...baseObject, [field]: value })));
    // One level down: each field of a nested object, and a new key in an open one (a gateway payload, a signal's).
    const nested = resolveRef(bodySchema!.properties![field]!);
    const inner = baseObject[field] && typeof baseObject[field] === 'object' && !Array.isArray(baseObject[field]) ? (baseObject[field] as Record<string, unknown>) : {};
    for (const key of Object.keys(nested.properties ?? {})) slots.push((value) => call(toJsonText({ ...baseObject, [field]: { ...inner, [key]: value } })));
    if (nested.type === 'object' && nested.additionalProperties !== false) slots.push((value) => call(toJsonText({ ...baseObject, [field]: { ...inner, fuzz: value } })));
  }
  if (op.body) slots.push((value) => call(toJsonText(value)));
  for (const p of op.params) {
    const text = (value: unknown) => (typeof value === 'string' ? value : toJsonText(value));
    if (p.in === 'path') slots.push((value) => call(op.body ? toJsonText(baseObject) : undefined, { ...path, [p.name]: text(value) }));
    else slots.push((value) => call(op.body ? toJsonText(baseObject) : undefined, path, { [p.name]: text(value) }));
  }
  if (FULL_SWEEP) {
    for (const slot of slots) for (const value of SWEEP_VALUES) yield slot(value);
  } else {
    // Each slot once, with a value that moves on from operation to operation: over the document every value lands somewhere.
    const offset = operations.indexOf(op) * 5;
    for (let i = 0; i < Math.max(slots.length, 4); i++) yield slots[i % slots.length]!(SWEEP_VALUES[(offset + i) % SWEEP_VALUES.length]);
  }
  if (op.body) {
    yield call('{"unterminated":');
    yield call(`"${ONE_MEGABYTE}"`);
    yield { ...call(toJsonText(baseObject)), headers: { 'content-type': 'text/plain' } };
  }
}

describe('the public webhooks take any body without a 5xx or a change on refusal', () => {
  const sign = (body: string) => `sha256=${createHmac('sha256', META_APP_SECRET).update(body).digest('hex')}`;
  const providers: Array<{ provider: string; fixtures: string[]; headers: (body: string) => Record<string, string> }> = [
    { provider: 'meta-cloud', fixtures: ['meta-cloud.text.json', 'meta-cloud.statuses.json', 'meta-cloud.batch.json'], headers: (body) => ({ 'x-hub-signature-256': sign(body) }) },
    { provider: 'green-api', fixtures: ['green-api.text.json', 'green-api.status-delivered.json', 'green-api.quoted.json'], headers: () => ({ authorization: `Bearer ${GREEN_HOOK_TOKEN}` }) },
    { provider: 'ultramsg', fixtures: ['ultramsg.message-received.json', 'ultramsg.message-ack.json'], headers: () => ({}) },
    { provider: 'fonnte', fixtures: ['fonnte.message.json', 'fonnte.message-status.json'], headers: () => ({ 'x-fonnte-secret': FONNTE_SECRET }) },
  ];

  /** Every place in a fixture (each leaf, each object, the whole body). */
  const placesOf = (fixture: unknown) => {
    const places: Array<{ at: Array<string | number>; value: unknown }> = [];
    const walk = (value: unknown, at: Array<string | number>) => {
      places.push({ at, value });
      if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) walk(item, [...at, Array.isArray(value) ? Number(key) : key]);
    };
    walk(fixture, []);
    return places;
  };
  const replaced = (fixture: unknown, at: Array<string | number>, value: unknown): unknown => {
    if (at.length === 0) return value;
    const copy = structuredClone(fixture) as Record<string | number, unknown>;
    let node = copy;
    for (const step of at.slice(0, -1)) node = node[step] as Record<string | number, unknown>;
    node[at.at(-1)!] = value;
    return copy;
  };
  /** Timestamps and ids past any range a provider sends: seconds that overflow a Date, 2^53, 1e308. */
  const NUMERIC = [99_999_999_999_999, '99999999999999', 1e308, 2 ** 53, -1, 0, RAW_VALUES[0], RAW_VALUES[2], 1.5];
  const STRINGS = [...HOSTILE_STRINGS.slice(0, 8), '', RAW_VALUES[3], RAW_VALUES[5], null, 42, []];
  /** Each place once with a value of its kind (every value, with a larger FUZZ_RUNS), and random replacements. */
  const variants = (name: string): unknown[] => {
    const fixture = jsonFixture(name);
    const out: unknown[] = [];
    placesOf(fixture).forEach(({ at, value }, index) => {
      const pool = typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value)) ? NUMERIC : STRINGS;
      const chosen = FULL_SWEEP ? pool : [pool[index % pool.length]];
      for (const hostile of chosen) out.push(replaced(fixture, at, hostile));
    });
    const places = placesOf(fixture);
    const random = fc.tuple(fc.constantFrom(...places), fc.oneof(hostileValue, fc.jsonValue({ maxDepth: 2 }))).map(([place, value]) => replaced(fixture, place.at, value));
    return [...out, ...fc.sample(random, { seed: seedOf(name), numRuns: FUZZ_RUNS })];
  };

  for (const { provider, fixtures, headers } of providers) {
    check(`POST /webhooks/whatsapp/{provider}/{key}`, `${provider} bodies`, async () => {
      const key = String((await t.request('POST', '/api/v1/whatsapp/webhook-key', { token: admin, body: {} })).json.urls[provider]).split('/').at(-1)!;
      const calls: Call[] = [];
      for (const name of fixtures) {
        for (const body of [...variants(name).map(toJsonText), '{"unterminated":']) {
          calls.push({ method: 'POST', url: `/webhooks/whatsapp/${provider}/${key}`, body, headers: headers(body) });
        }
      }
      // The key, hostile; and a valid body under a wrong key.
      for (const bad of ['\u0000', '\ud800', '\u202E', '..', ONE_MEGABYTE.slice(0, 10_000), '__proto__']) {
        calls.push({ method: 'POST', url: `/webhooks/whatsapp/${provider}/${encodeLoose(bad)}`, body: '{}', headers: headers('{}') });
      }
      await expectProperty(calls);
    });
  }
});

describe('every operation with a body or parameters: generated calls', () => {
  it('the document has operations to fuzz', () => expect(operations.length).toBeGreaterThan(30));
  for (const op of operations) {
    check(op.key, `${FUZZ_RUNS} generated calls`, async () => {
      await expectProperty(fc.sample(callArbitrary(op), { seed: seedOf(op.key), numRuns: FUZZ_RUNS }));
    });
  }
});

describe('every operation with a body or parameters: hostile values in every slot', () => {
  for (const op of operations) {
    check(op.key, 'hostile sweep', async () => {
      await expectProperty(sweep(op));
    });
  }
});
