import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { AppEnv } from './context.ts';
import type { Metrics } from './metrics.ts';
import { contextForCorrelationId, newCorrelationId, normaliseCorrelationId, tracer } from './telemetry.ts';

/**
 * First middleware of every request: settles the correlation id (accepted when valid,
 * generated otherwise), makes it the OpenTelemetry trace id, gives the request a child
 * logger that stamps it on every line, and records metrics and one access log line.
 */
/**
 * The path as logged and traced: a webhook URL's last segment is the tenant's secret key
 * (/webhooks/whatsapp/{provider}/{key}), so it is masked; logs go to more places than the key should.
 */
export function safePath(path: string): string {
  return path.startsWith('/webhooks/') ? path.replace(/\/[^/]+$/, '/[key]') : path;
}

/**
 * Headers every response carries unless its handler set its own. `nosniff`: a browser never
 * second-guesses our content types (a JSON body holding markup is never run as a page).
 * `no-store`: answers are per tenant and per caller and some carry secrets (approval tokens,
 * webhook URLs with their key, and idempotent replays of those), so no browser or proxy keeps
 * them; the docs' static assets set their own.
 */
const DEFAULT_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' } as const;

export function requestContext(options: { logger: Logger; metrics: Metrics }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const offered = c.req.header('x-correlation-id');
    const accepted = normaliseCorrelationId(offered);
    const correlationId = accepted ?? newCorrelationId();
    const parent = contextForCorrelationId(correlationId);
    const path = safePath(c.req.path);
    const span = tracer.startSpan(`${c.req.method} ${path}`, { kind: SpanKind.SERVER }, parent);
    const spanId = span.spanContext().spanId;
    const logger = options.logger.child({ correlation_id: correlationId, trace_id: correlationId, span_id: spanId });
    c.set('correlationId', correlationId);
    // Set before the response exists so it is merged in as the response is built; setting a
    // header on a finished Response makes Hono rebuild it (a slower path in node-server).
    c.header('X-Correlation-Id', correlationId);
    for (const [name, value] of Object.entries(DEFAULT_HEADERS)) c.header(name, value);
    c.set('logger', logger);
    if (offered && !accepted) {
      logger.warn({ offered: offered.slice(0, 80) }, 'X-Correlation-Id is not a 32-hex trace id or a UUID; a new one was generated');
    }
    try {
      await context.with(trace.setSpan(parent, span), () => next());
    } finally {
      // Responses built as raw Response objects (problems, idempotent replays) still need it.
      if (!c.res.headers.has('x-correlation-id')) c.header('X-Correlation-Id', correlationId);
      for (const [name, value] of Object.entries(DEFAULT_HEADERS)) if (!c.res.headers.has(name)) c.header(name, value);
      const status = c.res.status;
      const route = c.req.routePath && c.req.routePath !== '/*' ? c.req.routePath : 'unmatched';
      const seconds = (performance.now() - started) / 1000;
      span.updateName(`${c.req.method} ${route}`);
      span.setAttributes({ 'http.request.method': c.req.method, 'http.route': route, 'http.response.status_code': status });
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      const labels = { method: c.req.method, route, status: String(status) };
      options.metrics.httpRequests.inc(labels);
      options.metrics.httpDuration.observe(labels, seconds);
      const line = { method: c.req.method, path, route, status, duration_ms: Math.round(seconds * 10_000) / 10 };
      if (status >= 500) logger.error(line, 'request failed');
      else logger.info(line, 'request');
    }
  };
}
