/**
 * `npm run chaos` (and `--short` from the CI suite, test/chaos/chaos.test.ts): the product as a
 * real process, under a steady load of inbound WhatsApp webhooks, draft approvals and sends
 * against a local Ultramsg fake, while the runner
 *   (a) SIGKILLs the server every few seconds and starts it again,
 *   (b) stops PostgreSQL under load and starts it again,
 *   (c) makes the provider hang, then answer 5xx, then recover.
 * Then it stops the load, lets the backlog drain and checks, reading the database as superuser:
 * every acknowledged inbound message stored once and processed once, no outbound handed to the
 * provider twice (the fake counts accepted sends per idempotency key, Ultramsg's referenceId),
 * every run completed, waiting or dead-lettered with a reason, no opt-out lost.
 * Prints one JSON line with the counts on stdout (progress on stderr); exit 1 on a violation.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { issueToken } from '../../src/auth/issue-token.ts';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/db/embedded.ts';
import { createLogger } from '../../src/http/logger.ts';
import { Cleanup, freePort, makeTempDir, removeDir, spawnNode, stopChild, type Child } from '../../bench/processes.ts';
import { fields, startFakeServer, type FakeReply, type RecordedRequest } from '../support/fake-whatsapp/fake-server.ts';

const SHORT = process.argv.includes('--short');
const PLAN = SHORT
  ? { killPhaseS: 14, killEveryS: [3, 5] as const, pgRestarts: 1, pgDownS: 2, hangS: 4, errorS: 3, contacts: 12, optOuts: 3 }
  : { killPhaseS: 60, killEveryS: [3, 7] as const, pgRestarts: 2, pgDownS: 4, hangS: 10, errorS: 8, contacts: 40, optOuts: 8 };
const DRAIN_LIMIT_MS = SHORT ? 90_000 : 180_000;
const PROJECT = path.resolve(import.meta.dirname, '../..');
const ULTRAMSG = { instanceId: 'instance4242', token: 'chaos-ultramsg-token' };

function log(message: string): void {
  process.stderr.write(`[chaos] ${message}\n`);
}

type ProviderMode = 'ok' | 'hang' | 'error';

/**
 * Ultramsg as documented, plus the one thing the checks need: how many times a send with the
 * same referenceId (our idempotency key) was accepted. A hung request is never accepted (the
 * client gave up on it, so it may legitimately try again on the same provider).
 */
async function startCountingUltramsg() {
  let mode: ProviderMode = 'ok';
  let sent = 0;
  const accepted = new Map<string, number>();
  const acceptedTo = new Map<string, number[]>();
  const protocol = (request: RecordedRequest): FakeReply => {
    const route = /^\/([^/]+)\/messages\/chat$/.exec(new URL(request.path, 'http://fake').pathname);
    if (!route || request.method !== 'POST' || route[1] !== ULTRAMSG.instanceId) return { status: 404, body: { error: 'Instance not found' } };
    const body = fields(request);
    if (body.token !== ULTRAMSG.token) return { status: 200, body: { error: 'Wrong token. Please provide token as a GET parameter.' } };
    if (mode === 'hang') return 'timeout';
    if (mode === 'error') return { status: 503, body: 'Service Unavailable' };
    const reference = typeof body.referenceId === 'string' ? body.referenceId : '';
    accepted.set(reference, (accepted.get(reference) ?? 0) + 1);
    const to = typeof body.to === 'string' ? body.to : '';
    acceptedTo.set(to, [...(acceptedTo.get(to) ?? []), Date.now()]);
    sent += 1;
    return { status: 200, body: { sent: 'true', message: 'ok', id: sent } };
  };
  const server = await startFakeServer(protocol);
  return {
    url: server.url,
    close: () => server.close(),
    setMode(next: ProviderMode) {
      mode = next;
      log(`provider: ${next}`);
    },
    accepted,
    acceptedTo,
    requests: () => server.requests.length,
  };
}

interface Server {
  child: Child;
  starts: number;
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  const started = Date.now();
  let exitCode: number;
  try {
    exitCode = await run(cleanup);
  } finally {
    await cleanup.run();
    log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  process.exit(exitCode);
}

async function run(cleanup: Cleanup): Promise<number> {
  const dir = await makeTempDir('dealix-chaos-');
  cleanup.add('temp dir', () => removeDir(dir));
  const secret = () => randomBytes(24).toString('base64url');
  const secrets = { superuserPassword: secret(), ownerPassword: secret(), appPassword: secret() };
  const jwtSecret = secret() + secret();
  const pgPort = await freePort();
  const pgOptions = { pgDataDir: path.join(dir, 'pg'), port: pgPort, secrets, logger: createLogger({ level: 'silent' }) };
  let database: EmbeddedPostgresHandle | undefined = await startEmbeddedPostgres(pgOptions);
  cleanup.add('postgres', async () => {
    await database?.stop();
  });
  const provider = await startCountingUltramsg();
  cleanup.add('provider fake', () => provider.close());

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'error',
    DATABASE_URL: database.ownerUrl,
    DEALIX_APP_DB_PASSWORD: secrets.appPassword,
    DEALIX_JWT_SECRET: jwtSecret,
    DEALIX_MASTER_KEY: randomBytes(32).toString('base64'),
    DEALIX_SEED_DEMO: 'true',
    DEALIX_LOCK_TIMEOUT_MS: '3000',
    ULTRAMSG_INSTANCE_ID: ULTRAMSG.instanceId,
    ULTRAMSG_TOKEN: ULTRAMSG.token,
    ULTRAMSG_API_URL: provider.url,
    WHATSAPP_PROVIDERS: 'ultramsg',
    WHATSAPP_TIMEOUT_MS: '1500',
    DEALIX_DATA_DIR: path.join(dir, 'data'),
  };
  const server: Server = { child: startServer(env), starts: 1 };
  cleanup.add('server', () => stopChild(server.child, 10_000));
  await waitReady(base, server, env);

  const superuser = new pg.Pool({ connectionString: database.superuserUrl.replace(/\/postgres$/, '/dealix'), max: 2 });
  superuser.on('error', () => undefined);
  cleanup.add('superuser pool', () => superuser.end());
  const tenant = (await superuser.query<{ id: string }>(`SELECT id FROM tenants WHERE slug = 'demo'`)).rows[0];
  if (!tenant) throw new Error('the demo tenant was not seeded');
  const userOf = async (role: string) => (await superuser.query<{ id: string }>(`SELECT id FROM users WHERE tenant_id = $1 AND $2 = ANY(roles) ORDER BY created_at LIMIT 1`, [tenant.id, role])).rows[0]?.id ?? '';
  const token = (role: 'admin' | 'sales_manager', sub: string) => issueToken({ secret: jwtSecret, tenantId: tenant.id, sub, roles: [role], ttlHours: 2 });
  const adminToken = await token('admin', await userOf('admin'));
  const managerToken = await token('sales_manager', await userOf('sales_manager'));

  const api = async (method: string, url: string, authToken: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${url}`, {
      method,
      headers: { authorization: `Bearer ${authToken}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };

  // Open every day and hour, so replies go out now instead of waiting for Sunday 09:00.
  const settings = await api('PUT', '/api/v1/os/settings', adminToken, {
    business_hours: { days: [0, 1, 2, 3, 4, 5, 6], start: '00:00', end: '23:59', timezone: 'Asia/Riyadh' },
    template_variables: { price_range: '٥٠٠ – ٩٠٠ ريال', meeting_link: 'https://cal.example.com/dealix-demo' },
  });
  if (settings.status !== 200) throw new Error(`PUT /os/settings answered ${settings.status}: ${JSON.stringify(settings.json)}`);
  const hook = await api('POST', '/api/v1/whatsapp/webhook-key', adminToken, {});
  const webhookUrl = (hook.json.urls as Record<string, string> | undefined)?.ultramsg;
  if (hook.status >= 300 || typeof webhookUrl !== 'string') throw new Error(`POST /whatsapp/webhook-key answered ${hook.status}: ${JSON.stringify(hook.json)}`);
  const webhookPath = new URL(webhookUrl, base).pathname;

  // ── the load ────────────────────────────────────────────────────────────────────────────
  const phones = Array.from({ length: PLAN.contacts }, (_, i) => `9665${String(70_000_000 + i * 7919).padStart(8, '0')}`);
  const optOutPhones = new Set(phones.slice(0, PLAN.optOuts));
  const acknowledged = new Map<string, { phone: string; text: string }>();
  const counts = { webhook_posts: 0, webhook_retries: 0, approvals_tried: 0, approvals_ok: 0, server_kills: 0, postgres_restarts: 0 };
  let loadRunning = true;
  let sequence = 0;

  const deliver = async (phone: string, text: string) => {
    const messageId = `false_${phone}@c.us_${randomBytes(10).toString('hex').toUpperCase()}`;
    const body = {
      event_type: 'message_received',
      instanceId: ULTRAMSG.instanceId,
      id: '',
      referenceId: '',
      data: { id: messageId, from: `${phone}@c.us`, to: '966501234567@c.us', author: '', pushname: 'عميل', ack: '', type: 'chat', body: text, media: '', fromMe: false, time: Math.floor(Date.now() / 1000) },
    };
    // A provider redelivers until it gets a 2xx; so does this loop (for as long as the run lasts).
    for (let attempt = 0; ; attempt++) {
      counts.webhook_posts += 1;
      if (attempt > 0) counts.webhook_retries += 1;
      try {
        const response = await fetch(`${base}${webhookPath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
        await response.text();
        if (response.ok) {
          acknowledged.set(messageId, { phone, text });
          return;
        }
        if (response.status < 500 && response.status !== 429) throw new Error(`webhook refused with ${response.status}`);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('webhook refused')) throw error;
      }
      await sleep(200 + Math.random() * 300);
    }
  };

  const inboundLoop = async (phone: string, index: number) => {
    await sleep(index * 150);
    let n = 0;
    while (loadRunning) {
      n += 1;
      sequence += 1;
      // Each text carries its own number, so the checks can find every message's row.
      const text = optOutPhones.has(phone) && n === 3 ? `وقف الرسائل لو سمحت (${sequence})` : n % 2 === 0 ? `كم السعر؟ رقم ${sequence}` : `ابغى اعرف الاسعار ${sequence}`;
      await deliver(phone, text);
      if (text.startsWith('وقف')) return;
      await sleep(700 + Math.random() * 900);
    }
  };

  const approvalLoop = async () => {
    while (loadRunning) {
      try {
        const pending = await api('GET', '/api/v1/drafts?status=pending&limit=20', managerToken);
        const items = (pending.json.data ?? []) as Array<{ id: string }>;
        for (const draft of items) {
          counts.approvals_tried += 1;
          const decided = await api('POST', `/api/v1/drafts/${draft.id}/approve`, managerToken, {}, { 'idempotency-key': `chaos-approve-${draft.id}` });
          if (decided.status < 300) counts.approvals_ok += 1;
        }
      } catch {
        // The server is down or restarting: try again shortly.
      }
      await sleep(500);
    }
  };

  const loops = [...phones.map((phone, i) => inboundLoop(phone, i)), approvalLoop()];

  // ── (a) kill the server again and again ─────────────────────────────────────────────────
  log(`(a) SIGKILL the server every ${PLAN.killEveryS[0]}–${PLAN.killEveryS[1]} s for ${PLAN.killPhaseS} s`);
  const killUntil = Date.now() + PLAN.killPhaseS * 1000;
  while (Date.now() < killUntil) {
    await sleep((PLAN.killEveryS[0] + Math.random() * (PLAN.killEveryS[1] - PLAN.killEveryS[0])) * 1000);
    server.child.proc.kill('SIGKILL');
    await server.child.exited;
    counts.server_kills += 1;
    server.child = startServer(env);
    server.starts += 1;
    await waitReady(base, server, env);
  }

  // ── (b) stop PostgreSQL under load ──────────────────────────────────────────────────────
  for (let i = 0; i < PLAN.pgRestarts; i++) {
    log(`(b) stopping PostgreSQL for ${PLAN.pgDownS} s`);
    await database.stop();
    database = undefined;
    await sleep(PLAN.pgDownS * 1000);
    database = await startEmbeddedPostgres(pgOptions);
    counts.postgres_restarts += 1;
    log('(b) PostgreSQL is back');
    await sleep(3000);
    if (server.child.hasExited()) {
      // Losing its database is allowed to end the process; being unable to come back is not.
      log(`the server exited while PostgreSQL was down (${await server.child.exited}); starting it again`);
      server.child = startServer(env);
      server.starts += 1;
    }
    await waitReady(base, server, env);
  }

  // ── (c) a provider that hangs, then fails, then recovers ───────────────────────────────
  log(`(c) provider hangs for ${PLAN.hangS} s, then answers 503 for ${PLAN.errorS} s`);
  provider.setMode('hang');
  await sleep(PLAN.hangS * 1000);
  provider.setMode('error');
  await sleep(PLAN.errorS * 1000);
  provider.setMode('ok');

  loadRunning = false;
  log('load stopped; waiting for the last webhooks and the backlog to drain');
  await Promise.all(loops);
  const drained = await drain(superuser, tenant.id, managerToken, api);
  if (!drained) await describeBacklog(superuser, base);

  // ── the checks ──────────────────────────────────────────────────────────────────────────
  const violations: string[] = [];
  const inbound = await superuser.query<{ text: string; n: number }>(`SELECT text, count(*)::int AS n FROM inbound_messages WHERE tenant_id = $1 GROUP BY text`, [tenant.id]);
  const inboundByText = new Map(inbound.rows.map((row) => [row.text, row.n]));
  const events = await superuser.query<{ id: string; n: number; processed: number }>(
    `SELECT provider_message_id AS id, count(*)::int AS n, count(processed_at)::int AS processed FROM whatsapp_webhook_events WHERE tenant_id = $1 AND kind = 'message' GROUP BY 1`,
    [tenant.id],
  );
  const eventsById = new Map(events.rows.map((row) => [row.id, row]));
  let storedOnce = 0;
  let processedOnce = 0;
  for (const [messageId, message] of acknowledged) {
    const event = eventsById.get(messageId);
    if (event?.n === 1) storedOnce += 1;
    else violations.push(`message ${messageId} stored ${event?.n ?? 0} times`);
    const processed = inboundByText.get(message.text) ?? 0;
    if (processed === 1 && event?.processed === 1) processedOnce += 1;
    else violations.push(`message "${message.text}" processed ${processed} times (processed_at ${event?.processed ?? 0})`);
  }
  const twice = [...provider.accepted].filter(([, n]) => n > 1);
  for (const [key, n] of twice) violations.push(`outbound ${key} accepted by the provider ${n} times`);
  const outbound = await superuser.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM outbound_messages WHERE tenant_id = $1 GROUP BY 1`, [tenant.id]);
  const runs = await superuser.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM flow_runs WHERE tenant_id = $1 GROUP BY 1`, [tenant.id]);
  const stuck = await superuser.query<{ id: string; flow_name: string; status: string }>(
    `SELECT id, flow_name, status FROM flow_runs WHERE tenant_id = $1 AND status IN ('pending', 'running') LIMIT 20`,
    [tenant.id],
  );
  for (const run of stuck.rows) violations.push(`run ${run.id} (${run.flow_name}) still ${run.status}`);
  const failedWithoutReason = await superuser.query<{ id: string }>(
    `SELECT r.id FROM flow_runs r WHERE r.tenant_id = $1 AND r.status = 'failed'
        AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.tenant_id = r.tenant_id AND d.run_id = r.id AND d.error IS NOT NULL)`,
    [tenant.id],
  );
  for (const run of failedWithoutReason.rows) violations.push(`run ${run.id} failed without a dead letter`);
  const optedOut = await superuser.query<{ phone: string; opted_out_at: Date }>(
    `SELECT c.phone_e164 AS phone, min(a.created_at) AS opted_out_at
       FROM contacts c JOIN deals d ON d.tenant_id = c.tenant_id AND d.contact_id = c.id
       JOIN activities a ON a.tenant_id = d.tenant_id AND a.deal_id = d.id AND a.type = 'stage_changed' AND a.data->>'to' = 'opted_out'
      WHERE c.tenant_id = $1 GROUP BY 1`,
    [tenant.id],
  );
  const optedOutAt = new Map(optedOut.rows.map((row) => [row.phone.slice(1), row.opted_out_at.getTime()]));
  let optOutsRecorded = 0;
  let sentAfterOptOut = 0;
  for (const phone of optOutPhones) {
    const stopAcknowledged = [...acknowledged.values()].some((m) => m.phone === phone && m.text.startsWith('وقف'));
    const at = optedOutAt.get(phone);
    if (at !== undefined) optOutsRecorded += 1;
    else if (stopAcknowledged) violations.push(`opt-out of ${phone} was acknowledged but never recorded`);
    // Sends the provider accepted well after the opt-out committed (2 s covers a send already handed over).
    const late = (provider.acceptedTo.get(phone) ?? []).filter((time) => at !== undefined && time > at + 2_000);
    sentAfterOptOut += late.length;
    if (late.length) violations.push(`${late.length} message(s) to ${phone} accepted after its opt-out`);
  }
  const queuedToOptedOut = await superuser.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM outbound_messages o JOIN deals d ON d.tenant_id = o.tenant_id AND d.id = o.deal_id
      WHERE o.tenant_id = $1 AND o.status = 'queued' AND d.stage = 'opted_out'`,
    [tenant.id],
  );
  if ((queuedToOptedOut.rows[0]?.n ?? 0) > 0) violations.push(`${queuedToOptedOut.rows[0]?.n} outbound message(s) still queued to opted-out deals`);

  const result = {
    chaos: SHORT ? 'short' : 'full',
    ...counts,
    server_starts: server.starts,
    inbound_acknowledged: acknowledged.size,
    inbound_stored_once: storedOnce,
    inbound_processed_once: processedOnce,
    provider_requests: provider.requests(),
    provider_accepted_keys: provider.accepted.size,
    provider_accepted_twice: twice.length,
    outbound_by_status: Object.fromEntries(outbound.rows.map((row) => [row.status, row.n])),
    runs_by_status: Object.fromEntries(runs.rows.map((row) => [row.status, row.n])),
    drained,
    opt_outs_sent: optOutPhones.size,
    opt_outs_recorded: optOutsRecorded,
    sent_after_opt_out: sentAfterOptOut,
    violations: violations.length,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  for (const violation of violations.slice(0, 30)) log(`VIOLATION: ${violation}`);
  return violations.length === 0 && drained ? 0 : 1;
}

function startServer(env: Record<string, string>): Child {
  return spawnNode({ name: 'dealix', args: ['--max-semi-space-size=8', 'src/main.ts'], env, cwd: PROJECT, echo: (line) => !line.includes('eyJ') });
}

/** Until /readyz answers 200. A server that exits while starting is a failure of the run. */
async function waitReady(base: string, server: Server, env: Record<string, string>): Promise<void> {
  const deadline = Date.now() + 60_000;
  let restarts = 0;
  while (Date.now() < deadline) {
    if (server.child.hasExited()) {
      const exit = await server.child.exited;
      // Once, it may have lost a race with PostgreSQL coming back; twice is a real failure.
      if (restarts++ > 0) throw new Error(`the server could not start (exit ${exit}):\n${server.child.stderrTail()}`);
      log(`the server exited during startup (${exit}); starting it again`);
      server.child = startServer(env);
      server.starts += 1;
    }
    try {
      const response = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
      await response.text();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error('the server was not ready within 60 s');
}

/**
 * Waits until no run is pending or running and no draft waits for a decision (the approval
 * loop has stopped, so drafts left pending are approved here).
 */
async function drain(
  superuser: pg.Pool,
  tenantId: string,
  managerToken: string,
  api: (method: string, url: string, token: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; json: Record<string, unknown> }>,
): Promise<boolean> {
  const deadline = Date.now() + DRAIN_LIMIT_MS;
  while (Date.now() < deadline) {
    const busy = (await superuser.query<{ n: number }>(`SELECT count(*)::int AS n FROM flow_runs WHERE tenant_id = $1 AND status IN ('pending', 'running')`, [tenantId])).rows[0]?.n ?? 0;
    const pending = await api('GET', '/api/v1/drafts?status=pending&limit=50', managerToken).catch(() => ({ status: 0, json: {} as Record<string, unknown> }));
    const drafts = (pending.json.data ?? []) as Array<{ id: string }>;
    for (const draft of drafts) await api('POST', `/api/v1/drafts/${draft.id}/approve`, managerToken, {}, { 'idempotency-key': `chaos-approve-${draft.id}` }).catch(() => undefined);
    if (busy === 0 && drafts.length === 0) return true;
    await sleep(500);
  }
  log('the backlog did not drain in time');
  return false;
}

/** What a backlog that did not drain looks like: its jobs, the server's sessions and its health. */
async function describeBacklog(superuser: pg.Pool, base: string): Promise<void> {
  const jobs = await superuser.query(
    `SELECT (locked_at IS NOT NULL) AS locked, locked_by, attempts, max_attempts, (run_at > now()) AS future, left(last_error, 120) AS last_error, count(*)::int AS n
       FROM graphile_worker._private_jobs GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY n DESC LIMIT 20`,
  );
  log(`jobs: ${JSON.stringify(jobs.rows)}`);
  const sessions = await superuser.query(
    `SELECT application_name, state, wait_event_type, wait_event, left(query, 100) AS query, count(*)::int AS n
       FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY 1, 2, 3, 4, 5 ORDER BY n DESC`,
  );
  log(`sessions: ${JSON.stringify(sessions.rows)}`);
  const ready = await fetch(`${base}/readyz`).then(async (r) => `${r.status} ${await r.text()}`, (e: unknown) => String(e));
  log(`readyz: ${ready}`);
}

await main();
