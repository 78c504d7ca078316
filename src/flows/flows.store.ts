import { and, asc, desc, eq, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { deadLetters, flowCheckpoints, flowRuns, flowSignals, sideEffects } from '../db/schema.ts';
import type { TenantTx } from '../tenancy/with-tenant.ts';
import { readJsonColumn, ZJsonObject } from '../db/json-column.ts';

export type FlowRunRow = typeof flowRuns.$inferSelect;
export type FlowCheckpointRow = typeof flowCheckpoints.$inferSelect;
export type DeadLetterRow = typeof deadLetters.$inferSelect;

export const TERMINAL_STATUSES = ['completed', 'failed', 'cancelled'] as const;
export type FlowStatus = FlowRunRow['status'];

export async function findRun(tx: TenantTx, runId: string, options: { forUpdate?: boolean } = {}): Promise<FlowRunRow | undefined> {
  const query = tx.select().from(flowRuns).where(eq(flowRuns.id, runId));
  const [row] = options.forUpdate ? await query.for('update') : await query;
  return row;
}

export async function findRunByIdempotencyKey(tx: TenantTx, key: string): Promise<FlowRunRow | undefined> {
  const [row] = await tx.select().from(flowRuns).where(eq(flowRuns.idempotencyKey, key));
  return row;
}

/**
 * Locks the run row before its next checkpoint number is read. Two transactions that both
 * read max(seq) unlocked (the engine after a step, a cancel or resume request) pick the same
 * number; the later one then fails with 23505 after the step's effects committed. FOR NO KEY
 * UPDATE serializes every checkpoint writer of a run and, unlike FOR UPDATE, does not wait
 * for a signal in flight (its foreign key holds KEY SHARE).
 */
async function lockRunForCheckpoint(tx: TenantTx, runId: string): Promise<void> {
  await tx.execute(sql`SELECT 1 FROM flow_runs WHERE id = ${runId}::uuid FOR NO KEY UPDATE`);
}

/** Appends a checkpoint with the next sequence number of the run. */
export async function addCheckpoint(
  tx: TenantTx,
  entry: { runId: string; step: string | null; status: string; note?: string | null; state: Record<string, unknown> },
): Promise<number> {
  await lockRunForCheckpoint(tx, entry.runId);
  const [row] = await tx
    .insert(flowCheckpoints)
    .values({
      runId: entry.runId,
      seq: sql`(SELECT coalesce(max(seq), 0) + 1 FROM flow_checkpoints WHERE run_id = ${entry.runId})`,
      step: entry.step,
      status: entry.status,
      note: entry.note ?? null,
      state: entry.state,
    })
    .returning({ seq: flowCheckpoints.seq });
  return row?.seq ?? 0;
}

/**
 * Appends several checkpoints in one statement, numbered after the run's last one, and
 * optionally updates the run in the same round trip (a data-modifying CTE). Returns the
 * updated run, so the engine can carry it into its next move without reading it again.
 */
export async function checkpointAndUpdate(
  tx: TenantTx,
  runId: string,
  entries: Array<{ step: string | null; status: string; note?: string | null; state: Record<string, unknown> }>,
  values: Partial<typeof flowRuns.$inferInsert>,
): Promise<FlowRunRow> {
  const rows = sql.join(
    entries.map((e, i) => sql`(${i + 1}::int, ${e.step}::text, ${e.status}::text, ${e.note ?? null}::text, ${JSON.stringify(e.state)}::jsonb)`),
    sql`, `,
  );
  await lockRunForCheckpoint(tx, runId);
  await tx.execute(sql`
    INSERT INTO flow_checkpoints (run_id, seq, step, status, note, state)
    SELECT ${runId}::uuid, base.n + v.ord, v.step, v.status, v.note, v.state
      FROM (SELECT coalesce(max(seq), 0) AS n FROM flow_checkpoints WHERE run_id = ${runId}::uuid) base,
           (VALUES ${rows}) AS v(ord, step, status, note, state)`);
  const [run] = await tx.update(flowRuns).set({ ...values, updatedAt: sql`now()` }).where(eq(flowRuns.id, runId)).returning();
  if (!run) throw new Error(`flow run ${runId} vanished`);
  return run;
}

export async function listCheckpoints(tx: TenantTx, runId: string): Promise<FlowCheckpointRow[]> {
  return tx.select().from(flowCheckpoints).where(eq(flowCheckpoints.runId, runId)).orderBy(asc(flowCheckpoints.seq));
}

/** Queues the run's next advance (now, or at `runAt`) in the caller's transaction. */
export async function enqueueAdvance(tx: TenantTx, runId: string, runAt?: Date): Promise<void> {
  await tx.execute(sql`SELECT enqueue_flow_advance(${runId}::uuid, ${runAt ? runAt.toISOString() : null}::timestamptz)`);
}

export async function updateRun(tx: TenantTx, runId: string, values: Partial<typeof flowRuns.$inferInsert>): Promise<void> {
  await tx.update(flowRuns).set({ ...values, updatedAt: sql`now()` }).where(eq(flowRuns.id, runId));
}

export async function takeSignal(tx: TenantTx, runId: string, name: string): Promise<{ id: string; payload: unknown } | undefined> {
  const [signal] = await tx
    .select({ id: flowSignals.id, payload: flowSignals.payload })
    .from(flowSignals)
    .where(and(eq(flowSignals.runId, runId), eq(flowSignals.name, name), isNull(flowSignals.consumedAt)))
    .orderBy(asc(flowSignals.id))
    .limit(1)
    .for('update', { skipLocked: true });
  if (!signal) return undefined;
  await tx.update(flowSignals).set({ consumedAt: sql`now()` }).where(eq(flowSignals.id, signal.id));
  return signal;
}

export async function insertSignal(tx: TenantTx, values: { runId: string; name: string; payload: unknown }): Promise<string> {
  const [row] = await tx.insert(flowSignals).values({ runId: values.runId, name: values.name, payload: values.payload ?? {} }).returning({ id: flowSignals.id });
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row.id;
}

/** Records a side effect before its call; returns what is known of it so far. */
export async function recordSideEffect(
  tx: TenantTx,
  values: { idempotencyKey: string; runId: string; step: string },
): Promise<{ status: string; result: unknown; attempts: number }> {
  const [row] = await tx
    .insert(sideEffects)
    .values({ ...values, attempts: 1 })
    .onConflictDoUpdate({
      target: [sideEffects.tenantId, sideEffects.idempotencyKey],
      set: { attempts: sql`CASE WHEN ${sideEffects.status} = 'recorded' THEN ${sideEffects.attempts} + 1 ELSE ${sideEffects.attempts} END` },
    })
    .returning({ status: sideEffects.status, result: sideEffects.result, attempts: sideEffects.attempts });
  if (!row) throw new Error('side effect upsert gave no row');
  return row;
}

export async function completeSideEffect(tx: TenantTx, idempotencyKey: string, result: unknown): Promise<void> {
  await tx
    .update(sideEffects)
    .set({ status: 'done', result: (result ?? null) as never, completedAt: sql`now()` })
    .where(eq(sideEffects.idempotencyKey, idempotencyKey));
}

export async function insertDeadLetter(
  tx: TenantTx,
  values: { runId: string; flowName: string; step: string; error: Record<string, unknown>; attempts: number; escalation: string | null },
): Promise<string> {
  const [row] = await tx.insert(deadLetters).values(values).returning({ id: deadLetters.id });
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row.id;
}

export async function selectRuns(
  tx: TenantTx,
  filter: { statuses?: string[] | undefined; flowName?: string | undefined; afterId?: string | undefined; limit: number },
): Promise<FlowRunRow[]> {
  const conditions: (SQL | undefined)[] = [];
  if (filter.statuses?.length) conditions.push(inArray(flowRuns.status, filter.statuses));
  if (filter.flowName) conditions.push(eq(flowRuns.flowName, filter.flowName));
  if (filter.afterId) conditions.push(lt(flowRuns.id, filter.afterId));
  return tx.select().from(flowRuns).where(and(...conditions)).orderBy(desc(flowRuns.id)).limit(filter.limit);
}

export async function selectDeadLetters(tx: TenantTx, afterId: string | undefined, limit: number, includeReplayed: boolean): Promise<DeadLetterRow[]> {
  return tx
    .select()
    .from(deadLetters)
    .where(and(afterId ? lt(deadLetters.id, afterId) : undefined, includeReplayed ? undefined : isNull(deadLetters.replayedAt)))
    .orderBy(desc(deadLetters.id))
    .limit(limit);
}

/**
 * Runs left pending or running, across tenants, for the worker's start-up recovery. Works
 * only on the owner connection (policy `platform_recovery`); ids only.
 */
export async function unsafeListIncompleteRuns(ownerPool: pg.Pool): Promise<Array<{ tenantId: string; runId: string }>> {
  const rows = await drizzle({ client: ownerPool })
    .select({ tenantId: flowRuns.tenantId, runId: flowRuns.id })
    .from(flowRuns)
    .where(sql`${flowRuns.status} IN ('pending', 'running')`);
  return rows;
}

/**
 * Incomplete runs (pending, running or waiting) without a live job: none under their key, or
 * only one graphile-worker has given up on (its attempts spent). Such a run never moves
 * again by itself. Across tenants, on the owner connection (policy `platform_recovery`).
 * A run and its job are committed together, so one statement's snapshot never sees a
 * healthy run without its job.
 */
export async function unsafeListStrandedRuns(ownerPool: pg.Pool): Promise<Array<{ tenantId: string; runId: string }>> {
  const { rows } = await ownerPool.query<{ tenantId: string; runId: string }>(
    `SELECT r.tenant_id AS "tenantId", r.id AS "runId" FROM flow_runs r
      WHERE r.status IN ('pending', 'running', 'waiting')
        AND NOT EXISTS (
          SELECT 1 FROM graphile_worker._private_jobs j
           WHERE j.key = flow_job_key(r.tenant_id, r.id) AND j.attempts < j.max_attempts)`,
  );
  return rows;
}

/** A run's state: the JSON object its steps' patches built (and the engine's `_signal`). */
export function runState(run: Pick<FlowRunRow, 'state'>): Record<string, unknown> {
  return readJsonColumn(ZJsonObject, run.state, 'flow_runs.state');
}
