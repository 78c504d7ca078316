/**
 * The deal-lifecycle OS figures (`BENCH_ONLY=os`, issue 4). See bench/README.md.
 *
 *   intent_classifier   — in-process classify() throughput of the shipped classifier, one thread
 *   os_process          — POST /api/v1/os/process against the Dealix child vs bare Hono "hello"
 *   os_process_and_act  — POST /api/v1/os/process-and-act at 16 clients (new contact per request,
 *                         durable commits) vs the DBOS 3-step and raw-insert figures of the flow
 *                         bench at concurrency 16 from the same run (bench/flows.ts)
 *
 * The HTTP runs are driven from bench/run.ts, which owns the Dealix child and the measure()
 * plumbing; this module holds the bodies, the figures and the classifier loop.
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { loadDataset } from '../src/intents/dataset.ts';
import { shippedIntentClassifier } from '../src/intents/intent-classifier.ts';
import type { LoadResult } from './load.ts';
import { log } from './processes.ts';
import { envInt, round } from './util.ts';

export const CLASSIFIER_DURATION_S = envInt('BENCH_CLASSIFIER_DURATION_S', 3);
export const ACT_CONCURRENCY = 16;
export const ACT_DURATION_S = envInt('BENCH_ACT_DURATION_S', 8);
export const ACT_WARMUP_S = envInt('BENCH_ACT_WARMUP_S', 2);

const TARGET_CLASSIFIER_MPS = 20_000;
const TARGET_PROCESS_RATIO = 0.3;
const TARGET_ACT_RATIO = 8;

/** An Arabic price question about a contact already on file (the /os/process body). */
export const PROCESS_TEXT = 'السلام عليكم، كم سعر الاشتراك الشهري؟';
/** New-lead messages for process-and-act, alternated: a Gulf greeting and a price question. */
const ACT_TEXTS = ['السلام عليكم، هلا والله', 'كم سعر الاشتراك الشهري؟'];

/**
 * 1. intent_classifier: the shipped classifier (trained on the train split on first use; that
 * time, data set read included, is `train_ms`), then every data set text classified in a loop,
 * one thread, a 1 s warm-up (discarded) and a measured run of CLASSIFIER_DURATION_S.
 */
export function benchClassifier(): Record<string, unknown> {
  const t0 = performance.now();
  const classifier = shippedIntentClassifier();
  const trainMs = performance.now() - t0;
  const texts = loadDataset().map((message) => message.text);
  let sink = 0;
  const loop = (seconds: number): { messages: number; elapsed: number } => {
    const started = performance.now();
    const end = started + seconds * 1000;
    let messages = 0;
    while (performance.now() < end) {
      for (const text of texts) sink += classifier.classify(text).confidence;
      messages += texts.length;
    }
    return { messages, elapsed: (performance.now() - started) / 1000 };
  };
  log(`intent classifier: trained in ${trainMs.toFixed(0)} ms; warming up for 1 s over ${texts.length} texts`);
  loop(1);
  log(`intent classifier: measuring for ${CLASSIFIER_DURATION_S} s`);
  const { messages, elapsed } = loop(CLASSIFIER_DURATION_S);
  if (!Number.isFinite(sink)) throw new Error('classifier returned a non-finite confidence');
  const mps = messages / elapsed;
  log(`intent classifier: ${mps.toFixed(0)} messages/s (${messages} in ${elapsed.toFixed(2)} s)`);
  return {
    bench: 'intent_classifier',
    messages_per_s: round(mps, 0),
    target: TARGET_CLASSIFIER_MPS,
    meets_target: mps >= TARGET_CLASSIFIER_MPS,
    messages,
    duration_s: round(elapsed, 2),
    dataset_texts: texts.length,
    train_ms: round(trainMs, 1),
  };
}

/** 2. os_process: Dealix's /os/process run against bare Hono, measured the same way in the same run. */
export function processFigure(dealix: LoadResult, bare: LoadResult, connections: number, durationS: number): Record<string, unknown> {
  const ratio = dealix.rps / bare.rps;
  return {
    bench: 'os_process',
    rps: round(dealix.rps, 1),
    p99_ms: round(dealix.p99_ms, 2),
    baseline: 'bare_hono',
    baseline_rps: round(bare.rps, 1),
    baseline_p99_ms: round(bare.p99_ms, 2),
    ratio: round(ratio, 3),
    target_ratio: TARGET_PROCESS_RATIO,
    meets_target: ratio >= TARGET_PROCESS_RATIO,
    connections,
    duration_s: durationS,
  };
}

let actSeq = 0;
const actTag = Date.now().toString(36);

/**
 * One autocannon run of POST /os/process-and-act: ACT_CONCURRENCY connections, each request a
 * new contact (a unique Saudi mobile, +966 58 xxx xxxx, outside the seed's and the deal
 * bench's blocks) and a unique Idempotency-Key. Only 2xx count.
 */
export async function runProcessAndActLoad(baseUrl: string, token: string, durationS: number): Promise<LoadResult> {
  const result = await autocannon({
    url: baseUrl,
    connections: ACT_CONCURRENCY,
    pipelining: 1,
    duration: durationS,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/api/v1/os/process-and-act',
        setupRequest: (request) => {
          const n = (actSeq += 1);
          if (n >= 10_000_000) throw new Error('ran out of bench phone numbers');
          return {
            ...request,
            headers: {
              authorization: `Bearer ${token}`,
              'content-type': 'application/json',
              'idempotency-key': `bench-act-${actTag}-${n}`,
            },
            body: JSON.stringify({
              contact: { phone: `+96658${String(n).padStart(7, '0')}`, name: `Bench lead ${n}` },
              event: { type: 'inbound_message', text: ACT_TEXTS[n % ACT_TEXTS.length] },
            }),
          };
        },
      },
    ],
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

/** The DBOS and raw-insert figures at concurrency 16, read off the flow bench's lines of this run. */
export function flowBaselines(flowLines: ReadonlyArray<Record<string, unknown>> | undefined): { dbos?: number; raw?: number } {
  const at = (bench: string) => flowLines?.find((line) => line.bench === bench && line.concurrency === ACT_CONCURRENCY);
  const dbos = at('flow_3step')?.baseline_runs_per_s;
  const raw = at('flow_3step_vs_raw_insert')?.baseline_ops_per_s;
  return { ...(typeof dbos === 'number' ? { dbos } : {}), ...(typeof raw === 'number' ? { raw } : {}) };
}

/**
 * 3. os_process_and_act. Without the flow bench in the same run (BENCH_ONLY without `flows`,
 * or BENCH_FLOW_CONCURRENCY without 16) the baselines are null and so is meets_target.
 */
export function processAndActFigure(act: LoadResult, baselines: { dbos?: number; raw?: number }): Record<string, unknown> {
  const ratio = baselines.dbos === undefined ? null : act.rps / baselines.dbos;
  return {
    bench: 'os_process_and_act',
    concurrency: ACT_CONCURRENCY,
    events_per_s: round(act.rps, 1),
    p99_ms: round(act.p99_ms, 2),
    baseline: 'dbos_transact',
    baseline_runs_per_s: baselines.dbos ?? null,
    ratio: ratio === null ? null : round(ratio, 3),
    target_ratio: TARGET_ACT_RATIO,
    meets_target: ratio === null ? null : ratio >= TARGET_ACT_RATIO,
    raw_insert_ops_per_s: baselines.raw ?? null,
    raw_insert_ratio: baselines.raw === undefined ? null : round(act.rps / baselines.raw, 4),
    p50_ms: round(act.p50_ms, 2),
    events: act.ok,
    duration_s: ACT_DURATION_S,
    ...(ratio === null ? { note: 'no DBOS baseline in this run: include `flows` (concurrency 16) in BENCH_ONLY' } : {}),
  };
}
