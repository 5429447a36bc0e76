/**
 * The in-memory ring of recent spans the console reads (`traces.list`, `traces.get`): the
 * newest `size` finished spans, oldest dropped first. Rows are plain JSON, shaped as the
 * built-ins return them.
 */

/** One finished span, as `traces.get` returns it. */
export interface SpanRow {
  trace_id: string
  span_id: string
  parent_span_id?: string
  name: string
  kind: 'server' | 'consumer' | 'internal' | 'client' | 'producer'
  start_ms: number
  duration_ms: number
  status: 'ok' | 'error'
  error_code?: string
  attributes: Record<string, string | number | boolean>
  links: Array<{ trace_id: string; span_id: string }>
}

/** One trace in `traces.list`, from its root span (the one whose parent is not in the ring). */
export interface TraceRow {
  trace_id: string
  name: string
  function_path: string
  trigger_type: string
  started_at_ms: number
  duration_ms: number
  span_count: number
  status: 'ok' | 'error'
  error_code?: string
}

export interface TraceFilter {
  function_path?: string
  status?: 'ok' | 'error'
  since_ms?: number
  limit?: number
}

/** A fixed-size ring: the newest `size` rows, oldest dropped first. */
export class Ring<T> {
  private readonly rows: Array<T | undefined>
  private next = 0
  private count = 0

  constructor(readonly size: number) {
    this.rows = new Array(size)
  }

  push(row: T): void {
    this.rows[this.next] = row
    this.next = (this.next + 1) % this.size
    if (this.count < this.size) this.count++
  }

  /** The rows held, oldest first. */
  protected *oldest(): Iterable<T> {
    const start = this.count < this.size ? 0 : this.next
    for (let n = 0; n < this.count; n++) yield this.rows[(start + n) % this.size] as T
  }

  /** The rows held, newest first. */
  protected *newest(): Iterable<T> {
    for (let n = 1; n <= this.count; n++) yield this.rows[(this.next - n + this.size) % this.size] as T
  }
}

export class SpanRing extends Ring<SpanRow> {
  /** Every span of a trace, in start order. */
  trace(traceId: string): SpanRow[] {
    const spans: SpanRow[] = []
    for (const s of this.oldest()) if (s.trace_id === traceId) spans.push(s)
    return spans.sort((a, b) => a.start_ms - b.start_ms)
  }

  /** One row per trace, newest first, from its root span; the filters apply to the root. */
  traces(filter: TraceFilter): TraceRow[] {
    const byTrace = new Map<string, SpanRow[]>()
    for (const s of this.oldest()) {
      let list = byTrace.get(s.trace_id)
      if (list === undefined) byTrace.set(s.trace_id, (list = []))
      list.push(s)
    }
    const rows: TraceRow[] = []
    for (const [traceId, spans] of byTrace) {
      const ids = new Set(spans.map((s) => s.span_id))
      const roots = spans.filter((s) => s.parent_span_id === undefined || !ids.has(s.parent_span_id))
      const root = roots.reduce((a, b) => (b.start_ms < a.start_ms ? b : a))
      const end = Math.max(...spans.map((s) => s.start_ms + s.duration_ms))
      const row: TraceRow = {
        trace_id: traceId,
        name: root.name,
        function_path: String(root.attributes['iii.function_path'] ?? root.name),
        trigger_type: String(root.attributes['iii.trigger.type'] ?? 'direct'),
        started_at_ms: root.start_ms,
        duration_ms: Math.max(root.duration_ms, end - root.start_ms),
        span_count: spans.length,
        status: root.status,
        ...(root.error_code !== undefined && { error_code: root.error_code }),
      }
      if (filter.function_path !== undefined && row.function_path !== filter.function_path) continue
      if (filter.status !== undefined && row.status !== filter.status) continue
      if (filter.since_ms !== undefined && row.started_at_ms < filter.since_ms) continue
      rows.push(row)
    }
    rows.sort((a, b) => b.started_at_ms - a.started_at_ms)
    return rows.slice(0, filter.limit ?? 100)
  }
}
