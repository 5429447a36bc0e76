/**
 * Tracing with OpenTelemetry: one span per invocation, kept in the {@link SpanRing} and, when
 * the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set, exported over
 * OTLP/HTTP. The OpenTelemetry packages are imported here, at run time, only when tracing is
 * on: the bundled `iii` keeps them outside its file, so a cold start without tracing never
 * loads them.
 */
import type { Span, SpanKind as SpanKindT } from '@opentelemetry/api'
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { InvocationSpan, SpanStart, Tracing } from '../../core/tracing.js'
import type { SpanRing, SpanRow } from './ring.js'

/** The engine's read built-ins stay out of traces (the console calls them every second), and so do
 * the `logger.*` ones: a log line belongs to the span it was written in, its caller's. */
const UNTRACED = /^(engine|traces|logs|logger)\./

/** A running tracer; `shutdown` flushes the exporter. */
export interface OtelTracing extends Tracing {
  readonly exporting: boolean
  shutdown(): Promise<void>
}

/** True when the `OTEL_*` variables ask for OTLP export of traces. */
export function otlpRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
}

const kinds = ['internal', 'server', 'client', 'producer', 'consumer'] as const

function hrMs(t: [number, number]): number {
  return t[0] * 1000 + t[1] / 1e6
}

function toRow(s: ReadableSpan): SpanRow {
  const ctx = s.spanContext()
  const attributes: SpanRow['attributes'] = {}
  for (const [k, v] of Object.entries(s.attributes)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') attributes[k] = v
  }
  const code = attributes['iii.error.code']
  const parent = s.parentSpanContext?.spanId
  return {
    trace_id: ctx.traceId,
    span_id: ctx.spanId,
    ...(parent !== undefined && { parent_span_id: parent }),
    name: s.name,
    kind: kinds[s.kind] ?? 'internal',
    start_ms: Math.round(hrMs(s.startTime) * 1000) / 1000,
    duration_ms: Math.round(hrMs(s.duration) * 1000) / 1000,
    status: s.status.code === 2 ? 'error' : 'ok',
    ...(typeof code === 'string' && { error_code: code }),
    attributes,
    links: s.links.map((l) => ({ trace_id: l.context.traceId, span_id: l.context.spanId })),
  }
}

/** Loads OpenTelemetry and returns the engine's tracer, writing finished spans to `ring`. */
export async function createOtelTracing(ring: SpanRing, env: NodeJS.ProcessEnv = process.env): Promise<OtelTracing> {
  const api = await import('@opentelemetry/api')
  const { W3CTraceContextPropagator } = await import('@opentelemetry/core')
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base')
  const { resourceFromAttributes } = await import('@opentelemetry/resources')
  const { SpanKind, SpanStatusCode, ROOT_CONTEXT, trace } = api

  const toRing: SpanProcessor = {
    onStart: () => {},
    onEnd: (s) => ring.push(toRow(s)),
    forceFlush: async () => {},
    shutdown: async () => {},
  }
  const processors: SpanProcessor[] = [toRing]
  const exporting = otlpRequested(env)
  if (exporting) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter()))
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'iii-engine' }),
    spanProcessors: processors,
  })
  const tracer = provider.getTracer('iii-engine')
  const propagator = new W3CTraceContextPropagator()
  const getter = {
    get: (carrier: Record<string, string>, key: string) => carrier[key],
    keys: (carrier: Record<string, string>) => Object.keys(carrier),
  }
  const setter = { set: (carrier: Record<string, string>, key: string, value: string) => (carrier[key] = value) }

  const kindOf = (type: string | undefined): SpanKindT =>
    type === 'api' ? SpanKind.SERVER : type === 'event' ? SpanKind.CONSUMER : SpanKind.INTERNAL

  return {
    exporting,
    start(path: string, call: SpanStart): InvocationSpan | null {
      if (call.builtin && UNTRACED.test(path)) return null
      const parent =
        call.traceparent === undefined
          ? ROOT_CONTEXT
          : propagator.extract(ROOT_CONTEXT, { traceparent: call.traceparent }, getter)
      const parentSpan = trace.getSpanContext(parent)
      const trigger = call.trigger
      const attributes: Record<string, string | number> = {
        'iii.function_path': path,
        'iii.trigger.type': trigger?.type ?? 'direct',
        'iii.attempt': typeof trigger?.attempt === 'number' ? trigger.attempt : 1,
      }
      if (trigger?.id !== undefined) attributes['iii.trigger.id'] = trigger.id
      if (typeof trigger?.topic === 'string') attributes['iii.event.topic'] = trigger.topic
      if (typeof trigger?.event_id === 'string') attributes['iii.event.id'] = trigger.event_id
      if (call.workerId !== undefined) attributes['iii.caller.worker.id'] = call.workerId
      if (call.builtin) {
        attributes['iii.worker.id'] = 'engine'
        attributes['iii.worker.runtime'] = 'engine'
      }
      // A delivery of an event (each attempt) links to the span that emitted it.
      const links = trigger?.type === 'event' && parentSpan !== undefined ? [{ context: parentSpan }] : []
      const span: Span = tracer.startSpan(path, { kind: kindOf(trigger?.type), attributes, links }, parent)
      const carrier: Record<string, string> = {}
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, setter)
      let ended = false
      return {
        traceparent: carrier.traceparent,
        setWorker(id, runtime) {
          span.setAttribute('iii.worker.id', id)
          if (runtime !== undefined) span.setAttribute('iii.worker.runtime', runtime)
        },
        end(error) {
          if (ended) return
          ended = true
          if (error !== undefined) {
            const code = error.code ?? 'internal_error'
            span.setAttribute('iii.error.code', code)
            span.setStatus({ code: SpanStatusCode.ERROR, message: code })
          }
          span.end()
        },
      }
    },
    shutdown: () => provider.shutdown(),
  }
}
