import { Hono } from 'hono';
import type { AppEnv } from '../http/context.ts';
import type { Metrics } from '../http/metrics.ts';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}
export type ReadinessCheck = () => Promise<ReadinessReport>;

/**
 * Readiness that also requires the flow worker to be running, when this process runs one:
 * while it restarts after a fatal error, runs would be accepted and left pending.
 */
export function withFlowWorker(base: ReadinessCheck, worker: () => { ok: boolean; detail: string } | undefined): ReadinessCheck {
  return async () => {
    const report = await base();
    const health = worker();
    if (!health) return report;
    return { ready: report.ready && health.ok, checks: { ...report.checks, flow_worker: health } };
  };
}

/** Liveness, readiness (database reachable, migrations applied) and Prometheus metrics. */
export function healthRoutes(options: { readiness: ReadinessCheck; metrics: Metrics }): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.get('/healthz', (c) => c.json({ status: 'ok' }));
  routes.get('/readyz', async (c) => {
    const report = await options.readiness();
    return c.json({ status: report.ready ? 'ready' : 'not_ready', checks: report.checks }, report.ready ? 200 : 503);
  });
  routes.get('/metrics', async (c) =>
    c.body(await options.metrics.registry.metrics(), 200, { 'content-type': options.metrics.registry.contentType }),
  );
  return routes;
}
