import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT, TraceFlags, trace, type Context } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export const tracer = trace.getTracer('dealix');

/**
 * Registers the global tracer provider. With OTEL_EXPORTER_OTLP_ENDPOINT spans are exported
 * over OTLP/HTTP; without it they are still created (so trace ids flow into logs and
 * responses) but go nowhere.
 */
export function initTelemetry(options: { endpoint: string | undefined; serviceName: string }): { shutdown(): Promise<void> } {
  const base = options.endpoint?.endsWith('/') ? options.endpoint : `${options.endpoint}/`;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: options.endpoint ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: new URL('v1/traces', base).href }))] : [],
  });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A correlation id is a W3C trace id (32 lowercase hex, not all zeros). A UUID is accepted
 * and folded to that form, since many clients generate UUIDs. Anything else is not an id we
 * can use as a trace id: the caller gets a fresh one back instead.
 */
export function normaliseCorrelationId(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const candidate = raw.trim().toLowerCase();
  const hex = UUID.test(candidate) ? candidate.replaceAll('-', '') : candidate;
  return TRACE_ID.test(hex) && !/^0+$/.test(hex) ? hex : undefined;
}

export function newCorrelationId(): string {
  return randomBytes(16).toString('hex');
}

/** A remote parent context carrying the correlation id as trace id, so child spans inherit it. */
export function contextForCorrelationId(correlationId: string): Context {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: correlationId,
    spanId: randomBytes(8).toString('hex'),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
}
