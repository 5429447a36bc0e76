/** The ring of recent log records `logs.list` reads: `logger.*` lines and the engine's own. */
import type { LogRecord } from '../../log.js'

export interface LogFilter {
  trace_id?: string
  level?: string
  since_ms?: number
  limit?: number
}

export class LogRing {
  private readonly rows: Array<LogRecord | undefined>
  private next = 0
  private count = 0

  constructor(readonly size: number) {
    this.rows = new Array(size)
  }

  push(record: LogRecord): void {
    this.rows[this.next] = record
    this.next = (this.next + 1) % this.size
    if (this.count < this.size) this.count++
  }

  /** Matching records, newest first (at most `limit`, 200 by default). */
  list(filter: LogFilter): LogRecord[] {
    const limit = filter.limit ?? 200
    const out: LogRecord[] = []
    for (let n = 1; n <= this.count && out.length < limit; n++) {
      const r = this.rows[(this.next - n + this.size) % this.size] as LogRecord
      if (filter.trace_id !== undefined && r.trace_id !== filter.trace_id) continue
      if (filter.level !== undefined && r.level !== filter.level) continue
      if (filter.since_ms !== undefined && r.time_ms < filter.since_ms) continue
      out.push(r)
    }
    return out
  }
}
