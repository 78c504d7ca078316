import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type pg from 'pg';

export interface LoadResult {
  /** Successful (2xx / committed) operations per second over the measured window. */
  rps: number;
  p50_ms: number;
  p99_ms: number;
  ok: number;
  failed: number;
  duration_s: number;
}

export interface HttpLoad {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  durationS: number;
  /** Replace `[<id>]` anywhere in the request (headers included) with a fresh id per request. */
  idReplacement?: boolean;
}

/**
 * One autocannon run from this process (the servers under test are separate processes).
 * Only 2xx responses count as throughput; anything else is reported as failed.
 */
export async function runHttpLoad(load: HttpLoad): Promise<LoadResult> {
  const result = await autocannon({
    url: load.url,
    method: load.method ?? 'GET',
    headers: load.headers ?? {},
    ...(load.body !== undefined ? { body: load.body } : {}),
    connections: load.connections,
    pipelining: 1,
    duration: load.durationS,
    idReplacement: load.idReplacement ?? false,
    timeout: 10,
  });
  const ok = result['2xx'];
  return {
    rps: ok / result.duration,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    ok,
    failed: result.non2xx + result.errors,
    duration_s: result.duration,
  };
}

export interface QueryLoad {
  pool: pg.Pool;
  concurrency: number;
  durationS: number;
  /** Builds the next statement; called once per operation. */
  next: () => { text: string; values: unknown[] };
}

/**
 * `concurrency` async loops, each issuing one autocommit statement after another through the
 * pool for `durationS` seconds; the same shape as autocannon's closed-loop connections.
 */
export function runQueryLoad(load: QueryLoad): Promise<LoadResult> {
  return runLoopLoad({
    concurrency: load.concurrency,
    durationS: load.durationS,
    op: async () => {
      const { text, values } = load.next();
      await load.pool.query(text, values);
    },
  });
}

export interface TransactionLoad {
  pool: pg.Pool;
  concurrency: number;
  durationS: number;
  /** The statements of one transaction, run between BEGIN and COMMIT on one pooled client. */
  work: (client: pg.PoolClient) => Promise<void>;
}

/** Like runQueryLoad, but each operation is a whole transaction; it counts once committed. */
export function runTransactionLoad(load: TransactionLoad): Promise<LoadResult> {
  return runLoopLoad({
    concurrency: load.concurrency,
    durationS: load.durationS,
    op: async () => {
      const client = await load.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        await load.work(client);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      } finally {
        client.release(broken);
      }
    },
  });
}

/**
 * `concurrency` closed loops running `op` one after another for `durationS` seconds; an
 * operation counts (and its latency is recorded) when it resolves, as failed when it throws.
 */
export async function runLoopLoad(load: { concurrency: number; durationS: number; op: () => Promise<void> }): Promise<LoadResult> {
  const latencies: number[] = [];
  let failed = 0;
  let firstError: unknown;
  const started = performance.now();
  const end = started + load.durationS * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await load.op();
        latencies.push(performance.now() - t0);
      } catch (error) {
        failed += 1;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: load.concurrency }, loop));
  const elapsedS = (performance.now() - started) / 1000;
  if (failed > 0 && latencies.length === 0) throw firstError;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / elapsedS,
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    ok: latencies.length,
    failed,
    duration_s: elapsedS,
  };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}
