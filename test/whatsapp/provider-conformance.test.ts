import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OutboundWhatsApp, RealProviderName, SendResult, WhatsAppProvider } from '../../src/whatsapp/outbound/provider.ts';
import { createProviderEgress } from '../../src/whatsapp/outbound/providers/egress.ts';
import { createFonnteProvider, createGreenApiProvider, createMetaCloudProvider, createUltramsgProvider } from '../../src/whatsapp/outbound/providers/index.ts';
import { fonnteFailure, greenApi400, greenApiQuotaExceeded, metaGraphError, startFakeFonnte, startFakeGreenApi, startFakeMetaCloud, startFakeUltramsg, ultramsgError, ultramsgErrors } from '../support/fake-whatsapp/index.ts';
import type { FakeReply, FakeServer, RecordedRequest } from '../support/fake-whatsapp/index.ts';
import { freePort } from '../support/free-port.ts';

/**
 * One contract, four providers (hono's router/common.case.test.ts): every provider runs the
 * same cases against a local fake that speaks its protocol; provider-only behaviour follows.
 */

const ARABIC = 'أبغى أعرف الأسعار ١٢٣ 🙂 & a=b+c %20 "quoted"';

interface CreateOptions {
  apiUrl?: string;
  timeoutMs?: number;
  /** Replaces the fake's credential, to test refused credentials. */
  credential?: string;
}

interface Subject {
  fake: FakeServer;
  /** The credential the fake accepts. */
  credential: string;
  create(options?: CreateOptions): WhatsAppProvider;
}

interface Harness {
  name: RealProviderName;
  start(): Promise<Subject>;
  /** Path, auth placement and number format this provider must use for +966512345678. */
  expectRequest(request: RecordedRequest, message: OutboundWhatsApp): void;
  textOf(request: RecordedRequest): unknown;
  /** The code a refused credential must produce. */
  refusedCredentialCode: string;
  /** An error answer whose text this provider quotes in its reason. */
  errorSaying(text: string): FakeReply;
}

const body = (request: RecordedRequest) => request.body as Record<string, unknown>;

/** The fakes are local http servers: the operator allows their origins (WHATSAPP_ALLOWED_API_HOSTS). */
const local = (...urls: Array<string | undefined>) => createProviderEgress({ allowedOrigins: urls.flatMap((url) => (url ? [new URL(url).origin] : [])) });

const harnesses: Harness[] = [
  {
    name: 'green-api',
    async start() {
      const fake = await startFakeGreenApi({ instanceId: '1101000001', token: 'GREEN-SECRET-a1b2c3d4' });
      return { fake, credential: fake.token, create: (o = {}) => createGreenApiProvider({ instanceId: fake.instanceId, token: o.credential ?? fake.token, apiUrl: o.apiUrl ?? fake.url, timeoutMs: o.timeoutMs ?? 2_000, egress: local(fake.url, o.apiUrl) }) };
    },
    expectRequest(request, message) {
      expect(request.path).toBe('/waInstance1101000001/sendMessage/GREEN-SECRET-a1b2c3d4');
      expect(request.headers.authorization).toBeUndefined();
      expect(request.headers['content-type']).toMatch(/^application\/json/);
      expect(body(request)).toEqual({ chatId: '966512345678@c.us', message: message.text });
    },
    textOf: (request) => body(request).message,
    refusedCredentialCode: 'http_401',
    errorSaying: (text) => ({ status: 400, body: text }),
  },
  {
    name: 'ultramsg',
    async start() {
      const fake = await startFakeUltramsg({ instanceId: 'instance1150', token: 'ULTRA-SECRET-e5f6a7b8' });
      return { fake, credential: fake.token, create: (o = {}) => createUltramsgProvider({ instanceId: fake.instanceId, token: o.credential ?? fake.token, apiUrl: o.apiUrl ?? fake.url, timeoutMs: o.timeoutMs ?? 2_000, egress: local(fake.url, o.apiUrl) }) };
    },
    expectRequest(request, message) {
      expect(request.path).toBe('/instance1150/messages/chat');
      expect(request.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
      expect(body(request)).toEqual({ token: 'ULTRA-SECRET-e5f6a7b8', to: '+966512345678', body: message.text, referenceId: message.idempotencyKey });
    },
    textOf: (request) => body(request).body,
    refusedCredentialCode: 'account',
    errorSaying: (text) => ultramsgError(text),
  },
  {
    name: 'fonnte',
    async start() {
      const fake = await startFakeFonnte({ token: 'FONNTE-SECRET-c9d0e1f2' });
      return { fake, credential: fake.token, create: (o = {}) => createFonnteProvider({ token: o.credential ?? fake.token, apiUrl: o.apiUrl ?? fake.url, timeoutMs: o.timeoutMs ?? 2_000, egress: local(fake.url, o.apiUrl) }) };
    },
    expectRequest(request, message) {
      expect(request.path).toBe('/send');
      expect(request.headers.authorization).toBe('FONNTE-SECRET-c9d0e1f2');
      expect(body(request)).toEqual({ target: '966512345678', message: message.text, countryCode: '966' });
    },
    textOf: (request) => body(request).message,
    refusedCredentialCode: 'account',
    errorSaying: (text) => fonnteFailure(text),
  },
  {
    name: 'meta-cloud',
    async start() {
      const fake = await startFakeMetaCloud({ accessToken: 'META-SECRET-EAAG3g4h5i', phoneNumberId: '106540352242922' });
      return {
        fake,
        credential: fake.accessToken,
        create: (o = {}) => createMetaCloudProvider({ accessToken: o.credential ?? fake.accessToken, phoneNumberId: fake.phoneNumberId, apiUrl: o.apiUrl ?? fake.url, timeoutMs: o.timeoutMs ?? 2_000, egress: local(fake.url, o.apiUrl) }),
      };
    },
    expectRequest(request, message) {
      expect(request.path).toBe('/v23.0/106540352242922/messages');
      expect(request.headers.authorization).toBe('Bearer META-SECRET-EAAG3g4h5i');
      expect(body(request)).toEqual({ messaging_product: 'whatsapp', recipient_type: 'individual', to: '966512345678', type: 'text', text: { preview_url: false, body: message.text } });
    },
    textOf: (request) => (body(request).text as { body?: unknown }).body,
    refusedCredentialCode: '190',
    errorSaying: (text) => ({ status: 400, body: { error: { message: text, type: 'OAuthException', code: 100 } } }),
  },
];

let sequence = 0;
function outbound(overrides: Partial<OutboundWhatsApp> = {}): OutboundWhatsApp {
  sequence += 1;
  return { to: '+966512345678', text: 'مرحبا، عرض السعر جاهز', idempotencyKey: `flow-1:send:${sequence}`, outboundId: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`, ...overrides };
}

/** Every result any test saw, with the credentials in play, for the leak scan at the end. */
const seen: Array<{ provider: string; result: SendResult; secrets: string[] }> = [];
async function send(subject: Subject, provider: WhatsAppProvider, message: OutboundWhatsApp, extraSecrets: string[] = []): Promise<SendResult> {
  const result = await provider.send(message);
  seen.push({ provider: provider.name, result, secrets: [subject.credential, ...extraSecrets] });
  return result;
}

describe.each(harnesses)('$name conforms to WhatsAppProvider', (harness) => {
  let subject: Subject;
  beforeAll(async () => {
    subject = await harness.start();
  });
  afterAll(() => subject.fake.close());
  beforeEach(() => subject.fake.reset());

  it('has its name', () => {
    expect(subject.create().name).toBe(harness.name);
  });

  it('sends and reports the provider id, with the documented request', async () => {
    const message = outbound();
    const result = await send(subject, subject.create(), message);
    expect(result).toMatchObject({ kind: 'accepted', externalId: expect.any(String) });
    expect(subject.fake.requests).toHaveLength(1);
    expect(subject.fake.requests[0]!.method).toBe('POST');
    harness.expectRequest(subject.fake.requests[0]!, message);
  });

  it('delivers Arabic text (and form/URL-special characters) intact as UTF-8', async () => {
    const result = await send(subject, subject.create(), outbound({ text: ARABIC }));
    expect(result.kind).toBe('accepted');
    expect(harness.textOf(subject.fake.requests[0]!)).toBe(ARABIC);
    expect(subject.fake.requests[0]!.rawBody).not.toContain('\ufffd');
  });

  it('treats refused credentials as transient: the next provider may still work', async () => {
    const wrong = `${subject.credential}-WRONG`;
    const result = await send(subject, subject.create({ credential: wrong }), outbound(), [wrong]);
    expect(result).toMatchObject({ kind: 'transient', code: harness.refusedCredentialCode });
  });

  it('treats 429 as transient and honours Retry-After in seconds', async () => {
    subject.fake.respondWith({ status: 429, headers: { 'retry-after': '7' }, body: {} });
    expect(await send(subject, subject.create(), outbound())).toEqual({ kind: 'transient', reason: expect.any(String), code: 'http_429', retryAfterMs: 7000 });
  });

  it('honours Retry-After as an HTTP date, and leaves it out when absent', async () => {
    subject.fake.respondWith({ status: 429, headers: { 'retry-after': new Date(Date.now() + 30_000).toUTCString() }, body: {} }, { status: 429, body: {} });
    const dated = await send(subject, subject.create(), outbound());
    expect(dated.kind === 'transient' && dated.retryAfterMs).toBeGreaterThan(25_000);
    const bare = await send(subject, subject.create(), outbound());
    expect(bare).toMatchObject({ kind: 'transient', code: 'http_429' });
    expect(bare).not.toHaveProperty('retryAfterMs');
  });

  it.each([500, 502, 503, 504])('treats HTTP %i as transient', async (status) => {
    subject.fake.respondWith({ status, body: '<html><body>Bad Gateway</body></html>' });
    expect(await send(subject, subject.create(), outbound())).toMatchObject({ kind: 'transient', code: `http_${status}` });
  });

  it('gives up after timeoutMs and reports transient', async () => {
    subject.fake.respondWith('timeout');
    const started = performance.now();
    const result = await send(subject, subject.create({ timeoutMs: 200 }), outbound());
    expect(result).toMatchObject({ kind: 'transient', code: 'timeout' });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('reports a reset connection as transient', async () => {
    subject.fake.respondWith('reset');
    expect(await send(subject, subject.create(), outbound())).toMatchObject({ kind: 'transient', code: 'connection_reset' });
  });

  it('does not follow a redirect (it would replay the credentials elsewhere)', async () => {
    subject.fake.respondWith({ status: 302, headers: { location: `${subject.fake.url}/elsewhere` } });
    expect(await send(subject, subject.create(), outbound())).toMatchObject({ kind: 'transient', code: 'unexpected_redirect' });
    expect(subject.fake.requests).toHaveLength(1);
  });

  it('quotes an error text short and printable: no control or bidi characters, whatever its size', async () => {
    subject.fake.respondWith(harness.errorSaying(`\u001b[2J\u0000invalid \u202egnp.exe\r\nX-Injected: 1 ${'A'.repeat(20_000)}`));
    const result = await send(subject, subject.create(), outbound());
    expect(result.kind).not.toBe('accepted');
    const reason = (result as { reason: string }).reason;
    expect(reason.length).toBeLessThanOrEqual(300);
    // eslint-disable-next-line no-control-regex -- the control characters are what must not be there
    expect(reason).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/);
  });

  it('reports a refused connection as transient', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    expect(await send(subject, subject.create({ apiUrl: closed }), outbound())).toMatchObject({ kind: 'transient', code: 'connection_refused' });
  });

  it('never reports a malformed 200 body as accepted', async () => {
    subject.fake.respondWith('malformed', { status: 200, body: {} }, { status: 200, body: 'OK' });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect(await send(subject, subject.create(), outbound())).toMatchObject({ kind: 'transient', code: 'malformed_response' });
    }
  });

  it('refuses a number that is not E.164 without calling the provider', async () => {
    expect(await send(subject, subject.create(), outbound({ to: '0512345678' }))).toMatchObject({ kind: 'permanent', code: 'invalid_number' });
    expect(subject.fake.requests).toHaveLength(0);
  });
});

describe('green-api specifics', () => {
  const harness = harnesses[0]!;
  let subject: Subject;
  beforeAll(async () => {
    subject = await harness.start();
  });
  afterAll(() => subject.fake.close());
  beforeEach(() => subject.fake.reset());

  it('reports idMessage as the external id', async () => {
    expect(await send(subject, subject.create(), outbound())).toEqual({ kind: 'accepted', externalId: '3EB0C767D097B7C70001' });
  });

  it.each([
    ['466 quota exceeded', greenApiQuotaExceeded, { kind: 'transient', code: 'http_466' }],
    ['400 instance starting', greenApi400('instance in starting process try later'), { kind: 'transient', code: 'instance_not_ready' }],
    ['400 not authorized', greenApi400('instance account not authorized'), { kind: 'transient', code: 'instance_not_ready' }],
    ['400 bad request data', greenApi400('bad request data'), { kind: 'permanent', code: 'http_400' }],
    ['403 wrong instance', { status: 403 }, { kind: 'transient', code: 'http_403' }],
    ['499', { status: 499 }, { kind: 'transient', code: 'http_499' }],
  ] as const)('maps %s', async (_label, reply, expected) => {
    subject.fake.respondWith(reply);
    expect(await send(subject, subject.create(), outbound())).toMatchObject(expected);
  });
});

describe('ultramsg specifics', () => {
  const harness = harnesses[1]!;
  let subject: Subject;
  beforeAll(async () => {
    subject = await harness.start();
  });
  afterAll(() => subject.fake.close());
  beforeEach(() => subject.fake.reset());

  it('accepts only the string "true" with a numeric id, reported as a string', async () => {
    subject.fake.respondWith({ status: 200, body: { sent: 'true', message: 'ok', id: 42 } });
    expect(await send(subject, subject.create(), outbound())).toEqual({ kind: 'accepted', externalId: '42' });
  });

  it('does not take sent:"false" for success', async () => {
    subject.fake.respondWith({ status: 200, body: { sent: 'false', message: 'instance not connected', id: 43 } }, { status: 200, body: { sent: 'false', message: 'invalid number' } });
    expect(await send(subject, subject.create(), outbound())).toMatchObject({ kind: 'transient', code: 'not_sent' });
    expect(await send(subject, subject.create(), outbound())).toMatchObject({ kind: 'permanent', code: 'not_sent' });
  });

  it.each([
    ['wrong token', ultramsgError(ultramsgErrors.wrongToken), 'transient'],
    ['instance not found (404)', ultramsgError(ultramsgErrors.instanceNotFound, 404), 'transient'],
    ['stopped for non-payment', ultramsgError(ultramsgErrors.nonPayment), 'transient'],
    ['field validation', ultramsgError([{ to: 'is required' }, { body: 'is required' }]), 'permanent'],
    ['invalid number', ultramsgError('invalid phone number'), 'permanent'],
  ] as const)('maps the error body for %s', async (_label, reply, kind) => {
    subject.fake.respondWith(reply);
    expect(await send(subject, subject.create(), outbound())).toMatchObject({ kind });
  });

  it('passes a long idempotency key as a bounded, distinct referenceId', async () => {
    const long = `flow:${'x'.repeat(120)}`;
    await send(subject, subject.create(), outbound({ idempotencyKey: `${long}:1` }));
    await send(subject, subject.create(), outbound({ idempotencyKey: `${long}:2` }));
    const [first, second] = subject.fake.requests.map((request) => body(request).referenceId as string);
    expect(first!.length).toBeLessThanOrEqual(64);
    expect(first).not.toBe(second);
  });
});

describe('fonnte specifics', () => {
  const harness = harnesses[2]!;
  let subject: Subject;
  beforeAll(async () => {
    subject = await harness.start();
  });
  afterAll(() => subject.fake.close());
  beforeEach(() => subject.fake.reset());

  it('reports the first of the id array as the external id', async () => {
    subject.fake.respondWith({ status: 200, body: { detail: 'success! message in queue', id: ['80367170'], process: 'pending', requestid: 2937124, status: true, target: ['966512345678'] } });
    expect(await send(subject, subject.create(), outbound())).toEqual({ kind: 'accepted', externalId: '80367170' });
  });

  it.each([
    ['+966512345678', '966512345678', '966'],
    ['+971501234567', '971501234567', '971'],
    ['+6281234567890', '6281234567890', '62'],
    ['+12025550123', '12025550123', '1'],
  ])('sends %s as target %s with explicit countryCode %s', async (to, target, countryCode) => {
    expect(await send(subject, subject.create(), outbound({ to }))).toMatchObject({ kind: 'accepted' });
    expect(body(subject.fake.requests[0]!)).toMatchObject({ target, countryCode });
  });

  it.each([
    ['token invalid', 'transient'],
    ['insufficient quota', 'transient'],
    ['device disconnected', 'transient'],
    ['target invalid', 'permanent'],
    ['input invalid', 'permanent'],
  ] as const)('maps status:false reason %s', async (reason, kind) => {
    subject.fake.respondWith(fonnteFailure(reason));
    expect(await send(subject, subject.create(), outbound())).toMatchObject({ kind });
  });
});

describe('meta-cloud specifics', () => {
  const harness = harnesses[3]!;
  let subject: Subject;
  beforeAll(async () => {
    subject = await harness.start();
  });
  afterAll(() => subject.fake.close());
  beforeEach(() => subject.fake.reset());

  it('reports messages[0].id (a wamid) as the external id', async () => {
    expect(await send(subject, subject.create(), outbound())).toMatchObject({ kind: 'accepted', externalId: expect.stringMatching(/^wamid\./) });
  });

  it.each([
    [131026, { kind: 'permanent', code: '131026' }],
    [131047, { kind: 'permanent', code: '131047' }],
    [130429, { kind: 'transient', code: '130429' }],
    [131056, { kind: 'transient', code: '131056' }],
    [190, { kind: 'transient', code: '190' }],
    [100, { kind: 'permanent', code: '100' }],
  ] as const)('maps Graph error %i', async (code, expected) => {
    subject.fake.respondWith(metaGraphError(code));
    expect(await send(subject, subject.create(), outbound())).toMatchObject(expected);
  });

  it('honours Retry-After on 130429', async () => {
    subject.fake.respondWith(metaGraphError(130429, { 'retry-after': '3' }));
    expect(await send(subject, subject.create(), outbound())).toMatchObject({ kind: 'transient', code: '130429', retryAfterMs: 3000 });
  });

  it('falls back to the HTTP status for an unknown Graph code, keeping the code', async () => {
    subject.fake.respondWith({ status: 500, body: { error: { message: 'An unknown error occurred', type: 'OAuthException', code: 1, fbtrace_id: 'x' } } });
    expect(await send(subject, subject.create(), outbound())).toMatchObject({ kind: 'transient', code: '1' });
  });

  it('sends a template with body parameters instead of the text', async () => {
    const template = { name: 'price_followup', language: 'ar' as const, parameters: ['أبو خالد', '١٢٠٠ ريال'] };
    expect(await send(subject, subject.create(), outbound({ template }))).toMatchObject({ kind: 'accepted' });
    expect(body(subject.fake.requests[0]!)).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '966512345678',
      type: 'template',
      template: { name: 'price_followup', language: { code: 'ar' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'أبو خالد' }, { type: 'text', text: '١٢٠٠ ريال' }] }] },
    });
  });

  it('omits components for a template without parameters', async () => {
    await send(subject, subject.create(), outbound({ template: { name: 'hello_world', language: 'en', parameters: [] } }));
    expect(body(subject.fake.requests[0]!).template).toEqual({ name: 'hello_world', language: { code: 'en' } });
  });
});

describe('credentials', () => {
  it('never appear in any reason, across every result above', () => {
    const failures = seen.filter(({ result }) => result.kind !== 'accepted');
    expect(failures.length).toBeGreaterThan(40);
    for (const { provider, result, secrets } of failures) {
      const text = JSON.stringify(result);
      for (const secret of secrets) expect(text, `${provider} leaked a credential`).not.toContain(secret);
    }
  });

  it('are cut out even when a provider echoes them back in an error body', async () => {
    const fake = await startFakeUltramsg({ token: 'ECHOED-SECRET-1234' });
    try {
      fake.respondWith(ultramsgError('token ECHOED-SECRET-1234 is not valid for this instance'));
      const result = await createUltramsgProvider({ instanceId: fake.instanceId, token: fake.token, apiUrl: fake.url, egress: local(fake.url) }).send(outbound());
      expect(result.kind).toBe('transient');
      expect(JSON.stringify(result)).not.toContain('ECHOED-SECRET-1234');
    } finally {
      await fake.close();
    }
  });
});
