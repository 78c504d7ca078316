import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { outboundMessages } from '../../src/db/schema.ts';
import type { StepContext } from '../../src/flows/flow-definition.ts';
import { withTenant, type TenantTx } from '../../src/tenancy/with-tenant.ts';
import { cancelQueuedOutbound } from '../../src/whatsapp/outbound/outbound.store.ts';
import { createSandboxProvider, sandboxExternalId } from '../../src/whatsapp/outbound/sandbox-provider.ts';
import { createTestApp, type TestApp, type TestTenant } from '../support/test-app.ts';

let t: TestApp;
let a: TestTenant;
let admin: string;
let manager: string;
let rep: string;
let repId: string;

beforeAll(async () => {
  t = await createTestApp();
  a = await t.createTestTenant('outbound-a');
  admin = await a.token('admin');
  manager = await a.token('sales_manager', await a.addUser(['sales_manager']));
  repId = await a.addUser(['sales_rep']);
  rep = await a.token('sales_rep', repId);
  await t.startWorker({ pollIntervalMs: 100 });
});
afterAll(async () => {
  await t?.close();
});

let phoneSeq = 0;
async function contactWithDeal(): Promise<{ contactId: string; dealId: string; phone: string }> {
  phoneSeq += 1;
  const contact = await t.request('POST', '/api/v1/contacts', { token: admin, body: { phone: `055777${String(phoneSeq).padStart(4, '0')}`, name: 'Amal' } });
  expect(contact.status).toBe(201);
  // The rep's own deal: a sales_rep sends only to the contacts of deals they own.
  const deal = await t.request('POST', '/api/v1/deals', { token: admin, body: { contact_id: contact.json.id, title: 'Outbound deal', owner_user_id: repId } });
  expect(deal.status).toBe(201);
  return { contactId: contact.json.id, dealId: deal.json.id, phone: contact.json.phone };
}

/** Asks, has a manager approve, and executes with the approval token: returns the run id. */
async function approvedSend(payload: Record<string, unknown>): Promise<string> {
  const ask = await t.request('POST', '/api/v1/gateway/execute', { token: rep, body: { action: 'send_whatsapp', payload } });
  expect(ask.json).toMatchObject({ result: 'requires_approval', policy_class: 'B' });
  const approved = await t.request('POST', `/api/v1/approvals/${ask.json.approval_request_id}/approve`, { token: manager });
  expect(approved.status).toBe(200);
  const run = await t.request('POST', '/api/v1/gateway/execute', { token: rep, body: { action: 'send_whatsapp', payload, approval_token: approved.json.approval_token } });
  expect(run.json.result).toBe('accepted');
  return run.json.flow_run_id;
}

const runStatus = (runId: string, want: string[], token = admin) => t.waitForRun(runId, want, token);

const outboundOf = async (contactId: string) =>
  (await t.superuser.query('SELECT * FROM outbound_messages WHERE contact_id = $1 ORDER BY id', [contactId])).rows;
const asTenant = <T>(work: (tx: TenantTx) => Promise<T>) => withTenant({ pool: t.appPool, tenantId: a.id }, work);
const optOut = (dealId: string) => t.request('POST', `/api/v1/deals/${dealId}/transitions`, { token: admin, body: { to: 'opted_out', reason: 'said stop' } });

describe('send_whatsapp through the gateway', () => {
  it('is class B: without an approval nothing is queued', async () => {
    const { contactId } = await contactWithDeal();
    const ask = await t.request('POST', '/api/v1/gateway/execute', { token: rep, body: { action: 'send_whatsapp', payload: { contact_id: contactId, text: 'hello' } } });
    expect(ask.json.result).toBe('requires_approval');
    expect(await outboundOf(contactId)).toHaveLength(0);
  });

  it('refuses a payload with neither text nor template before any approval, and queues nothing', async () => {
    const { contactId } = await contactWithDeal();
    const ask = await t.request('POST', '/api/v1/gateway/execute', { token: rep, body: { action: 'send_whatsapp', payload: { contact_id: contactId } } });
    expect(ask.status).toBe(422);
    expect(JSON.stringify(ask.json)).toContain('text or template_id is required');
    expect(ask.json.decision.approval_request_id).toBeNull();
    expect(await outboundOf(contactId)).toHaveLength(0);
  });

  it('an approved send queues one row and ends sent with the sandbox external id; re-running does not send again', async () => {
    const { contactId, dealId, phone } = await contactWithDeal();
    const runId = await approvedSend({ contact_id: contactId, deal_id: dealId, template_id: 'welcome.named.ar' });
    const run = await runStatus(runId, ['completed', 'failed']);
    expect(run.status).toBe('completed');
    const externalId = sandboxExternalId(`${runId}:send:provider`);
    expect(run.output).toMatchObject({ status: 'sent', external_id: externalId });

    const rows = await outboundOf(contactId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 'sent',
      provider: 'sandbox',
      external_id: externalId,
      idempotency_key: `${runId}:send`,
      flow_run_id: runId,
      to_e164: phone,
      deal_id: dealId,
      template_id: 'welcome.named.ar',
      language: 'ar',
      body: 'هلا Amal، حياك الله! وش أكثر شي تحتاجه حالياً في المبيعات؟',
    });
    const sentAt = rows[0].sent_at.getTime();

    // Run the whole flow again from its first step, as a resumed run would.
    await t.superuser.query(`UPDATE flow_runs SET status = 'running', next_step = 0, attempt = 0, completed_at = NULL WHERE id = $1`, [runId]);
    await asTenant((tx) => tx.execute(sql`SELECT enqueue_flow_advance(${runId}::uuid)`));
    const again = await runStatus(runId, ['completed', 'failed']);
    expect(again.status).toBe('completed');
    const after = await outboundOf(contactId);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: rows[0].id, status: 'sent', external_id: externalId });
    expect(after[0].sent_at.getTime()).toBe(sentAt);
    const completions = (await t.superuser.query(`SELECT count(*)::int AS n FROM flow_checkpoints WHERE run_id = $1 AND status = 'completed'`, [runId])).rows[0].n;
    expect(completions).toBe(2);
    const effects = (await t.superuser.query('SELECT status, attempts FROM side_effects WHERE run_id = $1', [runId])).rows;
    expect(effects).toEqual([{ status: 'done', attempts: 1 }]);
  });

  it('a contact with an opted_out deal: the run fails at record, after one attempt, and nothing is queued or sent', async () => {
    const { contactId, dealId } = await contactWithDeal();
    expect((await optOut(dealId)).status).toBe(200);
    const runId = await approvedSend({ contact_id: contactId, text: 'special offer' });
    const run = await runStatus(runId, ['completed', 'failed']);
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ step: 'record', attempts: 1, message: expect.stringContaining('opted out') });
    expect(await outboundOf(contactId)).toHaveLength(0);
  });

  it('an error in record that is not a refusal (a cancelled query, as a lock timeout or a lost connection) is retried, and the message goes out', async () => {
    const { contactId, dealId } = await contactWithDeal();
    // Hold the table so record's INSERT waits, then cancel that INSERT as a lock timeout would.
    const holder = await t.superuser.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE outbound_messages IN EXCLUSIVE MODE');
      const runId = await approvedSend({ contact_id: contactId, deal_id: dealId, text: 'hello once' });
      let cancelled = false;
      for (let i = 0; i < 400 && !cancelled; i++) {
        const waiting = await t.superuser.query(
          `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE 'insert into "outbound_messages"%'`,
        );
        for (const { pid } of waiting.rows) cancelled = (await t.superuser.query('SELECT pg_cancel_backend($1) AS ok', [pid])).rows[0].ok || cancelled;
        if (!cancelled) await sleep(25);
      }
      expect(cancelled).toBe(true);
      await holder.query('COMMIT');
      const run = await runStatus(runId, ['completed', 'failed']);
      expect(run.status, JSON.stringify(run.error)).toBe('completed');
      const rows = await outboundOf(contactId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'sent', flow_run_id: runId });
      const failures = (await t.superuser.query(`SELECT note FROM flow_checkpoints WHERE run_id = $1 AND step = 'record' AND status = 'step_failed'`, [runId])).rows;
      expect(failures).toHaveLength(1);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
    }
  });

  it('a stage that does not match the deal is refused', async () => {
    const { contactId, dealId } = await contactWithDeal();
    const runId = await approvedSend({ contact_id: contactId, deal_id: dealId, stage: 'qualified', template_id: 'welcome.plain.ar' });
    const run = await runStatus(runId, ['completed', 'failed']);
    expect(run.status).toBe('failed');
    expect(run.error.message).toContain('new_lead');
    expect(await outboundOf(contactId)).toHaveLength(0);
  });
});

async function insertQueued(contactId: string, phone: string, key: string): Promise<string> {
  const [row] = await asTenant((tx) => tx.insert(outboundMessages).values({ contactId, toE164: phone, body: 'queued hello', idempotencyKey: key }).returning());
  if (!row) throw new Error('no row');
  return row.id;
}

describe('opt-out and queued messages', () => {
  it('cancelQueuedOutbound cancels every queued message of the contact, and only those', async () => {
    const one = await contactWithDeal();
    const other = await contactWithDeal();
    const q1 = await insertQueued(one.contactId, one.phone, 'cq-1');
    const q2 = await insertQueued(one.contactId, one.phone, 'cq-2');
    const sent = await insertQueued(one.contactId, one.phone, 'cq-3');
    await t.superuser.query(`UPDATE outbound_messages SET status = 'sent', sent_at = now() WHERE id = $1`, [sent]);
    const untouched = await insertQueued(other.contactId, other.phone, 'cq-4');

    const cancelled = await asTenant((tx) => cancelQueuedOutbound({ tx, contactId: one.contactId, reason: 'opted_out' }));
    expect(cancelled.sort()).toEqual([q1, q2].sort());
    const rows = Object.fromEntries((await outboundOf(one.contactId)).map((r) => [r.id, r]));
    expect(rows[q1]).toMatchObject({ status: 'cancelled', cancel_reason: 'opted_out' });
    expect(rows[q1].cancelled_at).toBeInstanceOf(Date);
    expect(rows[q2]).toMatchObject({ status: 'cancelled' });
    expect(rows[sent]).toMatchObject({ status: 'sent', cancelled_at: null });
    expect((await outboundOf(other.contactId))[0]).toMatchObject({ id: untouched, status: 'queued' });
  });

  it('the send step re-checks opt-out at send time: a contact who opted out while queued is not sent to', async () => {
    const { contactId, dealId, phone } = await contactWithDeal();
    const outboundId = await insertQueued(contactId, phone, 'send-time-1');
    expect((await optOut(dealId)).status).toBe(200);

    const step = t.router.get('send_whatsapp')?.flows[0]?.steps.find((s) => s.name === 'send');
    if (!step) throw new Error('no send step');
    let providerCalls = 0;
    const ctx = {
      runId: '00000000-0000-7000-8000-000000000001',
      tenantId: a.id,
      flowName: 'action:send_whatsapp',
      stepName: 'send',
      attempt: 1,
      input: { action: 'send_whatsapp', actor: 'test', payload: { contact_id: contactId, text: 'queued hello' } },
      state: { outbound_id: outboundId },
      correlationId: null,
      logger: pino({ level: 'silent' }),
      signal: undefined,
      waitTimedOut: false,
      db: asTenant,
      sideEffect: async () => {
        providerCalls += 1;
        throw new Error('the provider must not be called');
      },
    } as unknown as StepContext;
    const outcome = await step.run(ctx);
    expect(outcome).toMatchObject({ output: { outbound_id: outboundId, status: 'cancelled', reason: 'opted_out' } });
    expect(providerCalls).toBe(0);
    expect((await outboundOf(contactId))[0]).toMatchObject({ status: 'cancelled', cancel_reason: 'opted_out', sent_at: null, external_id: null });
  });
});

describe('sandbox provider', () => {
  it('same idempotency key: same external id, and no second send', async () => {
    const { contactId, phone } = await contactWithDeal();
    const outboundId = await insertQueued(contactId, phone, 'sandbox-1');
    const first = createSandboxProvider(asTenant);
    const message = { to: phone, text: 'hi', idempotencyKey: 'run:send:provider', outboundId };
    const accepted = await first.send(message);
    expect(accepted).toEqual({ kind: 'accepted', externalId: sandboxExternalId('run:send:provider') });
    const sentAt = (await outboundOf(contactId))[0].sent_at.getTime();
    // A resumed step calls again with the same key (the process died mid-call).
    const second = createSandboxProvider(asTenant);
    expect(await second.send(message)).toEqual(accepted);
    expect([first.sends, second.sends]).toEqual([1, 0]);
    expect((await outboundOf(contactId))[0].sent_at.getTime()).toBe(sentAt);
    // Another key for the same row is not a resend of it.
    expect(await second.send({ ...message, idempotencyKey: 'other' })).toMatchObject({ kind: 'permanent' });
  });

  it('does not send a cancelled message', async () => {
    const { contactId, phone } = await contactWithDeal();
    const outboundId = await insertQueued(contactId, phone, 'sandbox-2');
    await asTenant((tx) => cancelQueuedOutbound({ tx, contactId, reason: 'opted_out' }));
    const provider = createSandboxProvider(asTenant);
    expect(await provider.send({ to: phone, text: 'hi', idempotencyKey: 'k', outboundId })).toEqual({ kind: 'permanent', reason: 'outbound message is cancelled' });
    expect(provider.sends).toBe(0);
  });
});
