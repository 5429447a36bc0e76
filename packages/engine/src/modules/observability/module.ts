/**
 * The observability module: the `traces.*` and `logs.list` built-ins, the span ring and the
 * log ring. Tracing is on with `tracing: {enabled: true}`, `--console`, or the standard
 * `OTEL_EXPORTER_OTLP_ENDPOINT`; only then is OpenTelemetry loaded (`otel.ts`) and the core
 * given a tracer. Off, `traces.list` answers an empty list with `enabled: false`.
 */
import { ErrorCode, IIIError } from '../../errors.js'
import type { EngineApi, EngineModule } from '../module.js'
import { LogRing } from './logs.js'
import type { OtelTracing } from './otel.js'
import { SpanRing, type TraceFilter } from './ring.js'

/** The module's options (`tracing:` in the config). */
export interface TracingOptions {
  /** null: on when OTLP export is asked for by the `OTEL_*` variables. */
  enabled: boolean | null
  ringSize: number
  logRingSize: number
}

const optionalString = (fn: string, data: Record<string, unknown>, key: string): string | undefined => {
  const v = data[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw new IIIError(ErrorCode.InvalidArgument, `${fn}: ${key} must be a string`)
  return v
}

const optionalNumber = (fn: string, data: Record<string, unknown>, key: string): number | undefined => {
  const v = data[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new IIIError(ErrorCode.InvalidArgument, `${fn}: ${key} must be a number >= 0`)
  }
  return v
}

const args = (fn: string, data: unknown): Record<string, unknown> => {
  if (data === null || data === undefined) return {}
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new IIIError(ErrorCode.InvalidArgument, `${fn} takes an object`)
  }
  return data as Record<string, unknown>
}

export class ObservabilityModule implements EngineModule {
  readonly name = 'observability'
  readonly spans: SpanRing
  readonly logs: LogRing
  private tracing: OtelTracing | null = null

  constructor(
    private readonly options: TracingOptions,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.spans = new SpanRing(options.ringSize)
    this.logs = new LogRing(options.logRingSize)
  }

  async start(engine: EngineApi): Promise<void> {
    engine.log.tap?.((record) => this.logs.push(record))
    const { otlpRequested, createOtelTracing } = await import('./otel.js')
    if (this.options.enabled ?? otlpRequested(this.env)) {
      this.tracing = await createOtelTracing(this.spans, this.env)
      engine.useTracing(this.tracing)
      if (this.tracing.exporting) engine.log.info('tracing: exporting spans over OTLP/HTTP')
    }
    const on = () => this.tracing !== null
    engine.registerFunction(
      'traces.list',
      (data) => {
        const a = args('traces.list', data)
        const status = optionalString('traces.list', a, 'status')
        if (status !== undefined && status !== 'ok' && status !== 'error') {
          throw new IIIError(ErrorCode.InvalidArgument, 'traces.list: status must be "ok" or "error"')
        }
        const filter: TraceFilter = {
          function_path: optionalString('traces.list', a, 'function_path'),
          status,
          since_ms: optionalNumber('traces.list', a, 'since_ms'),
          limit: optionalNumber('traces.list', a, 'limit'),
        }
        return { enabled: on(), traces: this.spans.traces(filter) }
      },
      { description: 'Recent traces, newest first, one row per trace from its root span' },
    )
    engine.registerFunction(
      'traces.get',
      (data) => {
        const traceId = optionalString('traces.get', args('traces.get', data), 'trace_id')
        if (traceId === undefined) throw new IIIError(ErrorCode.InvalidArgument, 'traces.get needs {trace_id}')
        return { trace_id: traceId, spans: this.spans.trace(traceId) }
      },
      { description: 'Every span of one trace the engine still holds, across workers and languages' },
    )
    engine.registerFunction(
      'logs.list',
      (data) => {
        const a = args('logs.list', data)
        return {
          logs: this.logs.list({
            trace_id: optionalString('logs.list', a, 'trace_id'),
            level: optionalString('logs.list', a, 'level'),
            since_ms: optionalNumber('logs.list', a, 'since_ms'),
            limit: optionalNumber('logs.list', a, 'limit'),
          }),
        }
      },
      { description: 'Recent log records (logger.log and the engine its own), newest first' },
    )
  }

  async stop(): Promise<void> {
    const t = this.tracing
    this.tracing = null
    await t?.shutdown()
  }
}
