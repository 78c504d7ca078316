import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT, TraceFlags, trace, type Context } from '@opentelemetry/api';

export const tracer = trace.getTracer('dealix');

/**
 * With OTEL_EXPORTER_OTLP_ENDPOINT, registers a tracer provider that exports spans over
 * OTLP/HTTP. Without it nothing is registered: the API's no-op tracer still carries the
 * correlation id as trace id (a non-recording span keeps its parent's context), so logs and
 * responses are unchanged, and no span objects are built for nobody to read.
 */
export async function initTelemetry(options: { endpoint: string | undefined; serviceName: string }): Promise<{ shutdown(): Promise<void> }> {
  if (!options.endpoint) return { shutdown: async () => undefined };
  // Loaded only when exporting: the SDK and exporter weigh ~20 MB of resident memory.
  const [{ OTLPTraceExporter }, { resourceFromAttributes }, { BatchSpanProcessor, NodeTracerProvider }] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-node'),
  ]);
  const base = options.endpoint?.endsWith('/') ? options.endpoint : `${options.endpoint}/`;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: new URL('v1/traces', base).href }))],
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
