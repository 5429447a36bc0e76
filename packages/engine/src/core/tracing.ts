/**
 * The invocation seam: what the core tells an observer (the tracer, the metrics) about each
 * call. The core calls {@link Tracing.start} at the one place an invocation starts
 * (`Engine.invoke`) and ends the returned handle where it settles; with no observer the engine
 * holds `null` and each call costs one check. Implementations, loaded only when switched on:
 * `modules/observability/otel.ts` (spans) and `modules/observability/metrics.ts` (Prometheus).
 * Two observers at once are joined by {@link bothObservers}.
 */
import type { TriggerMeta } from '../protocol.js'

/** One invocation's handle (a span, for the tracer), as the core sees it. */
export interface InvocationSpan {
  /**
   * The W3C `traceparent` naming this span: forwarded to the worker (or engine) that runs the
   * call. Undefined for an observer that makes no span (the metrics): the caller's is kept.
   */
  readonly traceparent: string | undefined
  /** Records the worker chosen to run the call. */
  setWorker(id: string, runtime: string | undefined): void
  /** Ends the call: ok, or with the error's code as its status. Later calls do nothing. */
  end(error?: { code?: string; message?: string }): void
}

/** What the observer is told about a call that starts. */
export interface SpanStart {
  trigger?: TriggerMeta
  /** The caller's W3C `traceparent`: the new span is its child. */
  traceparent?: string
  /** The worker that made the call, when a worker made it. */
  workerId?: string
  /** The function is built into the engine. */
  builtin: boolean
}

/** An invocation observer. `start` returns null for calls it does not record. */
export interface Tracing {
  start(functionPath: string, call: SpanStart): InvocationSpan | null
}

/** Another name for the seam's observer, for the metrics side. */
export type InvocationObserver = Tracing

/** Two observers as one: `first` (the tracer) names the traceparent, both see every call. */
export function bothObservers(first: Tracing, second: Tracing): Tracing {
  return {
    start(path, call) {
      const a = first.start(path, call)
      const b = second.start(path, call)
      if (a === null) return b
      if (b === null) return a
      return {
        traceparent: a.traceparent ?? b.traceparent,
        setWorker(id, runtime) {
          a.setWorker(id, runtime)
          b.setWorker(id, runtime)
        },
        end(error) {
          a.end(error)
          b.end(error)
        },
      }
    },
  }
}
