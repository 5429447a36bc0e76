/**
 * The tracing seam: what the core asks of a tracer. The core calls {@link Tracing.start} at the
 * one place an invocation starts (`Engine.invoke`) and ends the span where it settles; with
 * tracing off the engine holds `null` and each call costs one check. The implementation
 * (OpenTelemetry, loaded only when tracing is on) is `modules/observability/otel.ts`.
 */
import type { TriggerMeta } from '../protocol.js'

/** One invocation's span, as the core sees it. */
export interface InvocationSpan {
  /** The W3C `traceparent` naming this span: forwarded to the worker (or engine) that runs the call. */
  readonly traceparent: string
  /** Records the worker chosen to run the call. */
  setWorker(id: string, runtime: string | undefined): void
  /** Ends the span: ok, or with the error's code as its status. Later calls do nothing. */
  end(error?: { code?: string; message?: string }): void
}

/** What the tracer is told about a call that starts. */
export interface SpanStart {
  trigger?: TriggerMeta
  /** The caller's W3C `traceparent`: the new span is its child. */
  traceparent?: string
  /** The worker that made the call, when a worker made it. */
  workerId?: string
  /** The function is built into the engine. */
  builtin: boolean
}

/** A tracer. `start` returns null for calls it does not record (the engine's own read built-ins). */
export interface Tracing {
  start(functionPath: string, call: SpanStart): InvocationSpan | null
}
