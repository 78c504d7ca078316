/**
 * The WhatsApp figures (`BENCH_ONLY=whatsapp`, issue 5). See bench/README.md.
 *
 *   whatsapp_webhook_ack      — POST /webhooks/whatsapp/green-api/{key} at 16 clients: each a new
 *                               inbound message (unique idMessage) from a new Saudi mobile,
 *                               acknowledged after it is stored and its flow queued (target p99 < 50 ms)
 *   whatsapp_inbound_to_reply — the same webhooks, end to end: stored → `whatsapp:inbound` flow →
 *                               processAndAct → the gateway under the demo tenant's standing approval
 *                               → send_whatsapp flow → a local fake Green API receives the reply;
 *                               replies per second, against /os/process-and-act from the same run
 *
 * Runs on the Dealix child of bench/run.ts after the os figures: the demo tenant gets its own
 * Green API credentials pointed at the fake, business hours open all week (so the reply goes
 * out now, not at the next opening) and a webhook key.
 */
import autocannon from 'autocannon';
import { startFakeGreenApi, type FakeGreenApi } from '../test/support/fake-whatsapp/index.ts';
import type { LoadResult } from './load.ts';
import { log } from './processes.ts';
import { envInt, round } from './util.ts';

export const WEBHOOK_CONCURRENCY = 16;
const WEBHOOK_DURATION_S = envInt('BENCH_WEBHOOK_DURATION_S', 8);
const E2E_MESSAGES = envInt('BENCH_E2E_MESSAGES', 400);
const E2E_TIMEOUT_S = envInt('BENCH_E2E_TIMEOUT_S', 180);
const TARGET_ACK_P99_MS = 50;
const WEBHOOK_TOKEN = 'bench-webhook-token-8d1f';

interface Target {
  baseUrl: string;
  token: string;
}

async function api(target: Target, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${target.baseUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** Points the demo tenant at a fake Green API, opens its hours all week, and returns its webhook path. */
export async function prepareWhatsApp(target: Target): Promise<{ fake: FakeGreenApi; webhookPath: string }> {
  const fake = await startFakeGreenApi();
  await api(target, 'PUT', '/whatsapp/providers/green-api', { instance_id: fake.instanceId, token: fake.token, api_url: fake.url, webhook_token: WEBHOOK_TOKEN });
  await api(target, 'PUT', '/os/settings', { business_hours: { days: [0, 1, 2, 3, 4, 5, 6], start: '00:00', end: '23:59', timezone: 'Asia/Riyadh' } });
  // The demo seed's standing approval caps automatic replies at 30 an hour (governance working
  // as meant); the bench grants one without a cap, for templated replies only, like the seed's.
  await api(target, 'POST', '/standing-approvals', {
    action: 'send_whatsapp',
    conditions: { template_only: true },
    expires_at: new Date(Date.now() + 3_600_000).toISOString(),
  });
  const created = await api(target, 'POST', '/whatsapp/webhook-key', {});
  const urls = created.urls as Record<string, string>;
  const webhookPath = urls['green-api'];
  if (!webhookPath) throw new Error('no Green API webhook URL');
  return { fake, webhookPath };
}

let seq = 0;
const tag = Date.now().toString(36).toUpperCase();

/** A Green API incomingMessageReceived body, as documented, from a new mobile (+966 57x, outside other benches' blocks). */
function inboundBody(): string {
  const n = (seq += 1);
  const phone = `96657${String(n).padStart(7, '0')}`;
  return JSON.stringify({
    typeWebhook: 'incomingMessageReceived',
    instanceData: { idInstance: 1101000001, wid: '966501234567@c.us', typeInstance: 'whatsapp' },
    timestamp: Math.floor(Date.now() / 1000),
    idMessage: `BENCH${tag}${n}`,
    senderData: { chatId: `${phone}@c.us`, sender: `${phone}@c.us`, chatName: `عميل ${n}`, senderName: `عميل ${n}`, senderContactName: '' },
    messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: n % 2 ? 'السلام عليكم، هلا والله' : 'كم سعر الاشتراك الشهري؟' } },
  });
}

/** One autocannon run of webhook posts; only 2xx count. */
export async function runWebhookLoad(baseUrl: string, webhookPath: string, durationS: number, amount?: number): Promise<LoadResult> {
  const result = await autocannon({
    url: baseUrl,
    connections: WEBHOOK_CONCURRENCY,
    pipelining: 1,
    ...(amount === undefined ? { duration: durationS } : { amount }),
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: webhookPath,
        setupRequest: (request) => ({
          ...request,
          headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
          body: inboundBody(),
        }),
      },
    ],
  });
  const ok = result['2xx'];
  return { rps: ok / result.duration, p50_ms: result.latency.p50, p99_ms: result.latency.p99, ok, failed: result.non2xx + result.errors, duration_s: result.duration };
}

export function webhookAckFigure(ack: LoadResult): Record<string, unknown> {
  return {
    bench: 'whatsapp_webhook_ack',
    concurrency: WEBHOOK_CONCURRENCY,
    acks_per_s: round(ack.rps, 1),
    p50_ms: round(ack.p50_ms, 2),
    p99_ms: round(ack.p99_ms, 2),
    target_p99_ms: TARGET_ACK_P99_MS,
    meets_target: ack.p99_ms < TARGET_ACK_P99_MS,
    acks: ack.ok,
    duration_s: WEBHOOK_DURATION_S,
    note: 'each ack stores the event and queues its durable flow; the backlog is processed by the worker meanwhile',
  };
}

export { WEBHOOK_DURATION_S };

/**
 * End to end: waits until the fake provider has received as many replies as there were
 * webhooks before the burst plus E2E_MESSAGES, then reports replies per second from the
 * first post to the last reply.
 */
export async function runInboundToReply(baseUrl: string, webhookPath: string, fake: FakeGreenApi): Promise<{ seconds: number; replies: number; ackP99: number }> {
  // Only replies to this burst's senders count (their numbers follow `seq`), so a leftover of
  // an earlier run can neither inflate nor hide the figure.
  const first = seq + 1;
  const last = seq + E2E_MESSAGES;
  const ours = () =>
    fake.requests.filter((request) => {
      const match = /"chatId":"96657(\d{7})@c\.us"/.exec(request.rawBody);
      const n = match ? Number(match[1]) : 0;
      return n >= first && n <= last;
    }).length;
  const started = performance.now();
  const burst = await runWebhookLoad(baseUrl, webhookPath, 0, E2E_MESSAGES);
  if (burst.failed > 0) throw new Error(`${burst.failed} webhook posts failed in the end-to-end run`);
  if (seq !== last) throw new Error(`expected ${E2E_MESSAGES} posts, made ${seq - first + 1}`);
  const deadline = started + E2E_TIMEOUT_S * 1000;
  let replied = ours();
  while (replied < E2E_MESSAGES) {
    if (performance.now() > deadline) throw new Error(`only ${replied} of ${E2E_MESSAGES} replies reached the fake provider in ${E2E_TIMEOUT_S} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    replied = ours();
  }
  const seconds = (performance.now() - started) / 1000;
  log(`inbound → reply: ${E2E_MESSAGES} replies in ${seconds.toFixed(2)} s`);
  return { seconds, replies: E2E_MESSAGES, ackP99: burst.p99_ms };
}

export function inboundToReplyFigure(e2e: { seconds: number; replies: number }, processAndActEventsPerS: number | undefined): Record<string, unknown> {
  const rate = e2e.replies / e2e.seconds;
  return {
    bench: 'whatsapp_inbound_to_reply',
    concurrency: WEBHOOK_CONCURRENCY,
    replies_per_s: round(rate, 1),
    replies: e2e.replies,
    seconds: round(e2e.seconds, 2),
    baseline: 'os_process_and_act (same run; it stops at the gateway decision, this goes on to the provider)',
    baseline_events_per_s: processAndActEventsPerS === undefined ? null : round(processAndActEventsPerS, 1),
    ratio: processAndActEventsPerS === undefined ? null : round(rate / processAndActEventsPerS, 3),
  };
}
