/** The ring of recent log records `logs.list` reads: `logger.*` lines and the engine's own. */
import type { LogRecord } from '../../log.js'
import { Ring } from './ring.js'

export interface LogFilter {
  trace_id?: string
  level?: string
  since_ms?: number
  limit?: number
}

export class LogRing extends Ring<LogRecord> {
  /** Matching records, newest first (at most `limit`, 200 by default). */
  list(filter: LogFilter): LogRecord[] {
    const limit = filter.limit ?? 200
    const out: LogRecord[] = []
    for (const r of this.newest()) {
      if (out.length >= limit) break
      if (filter.trace_id !== undefined && r.trace_id !== filter.trace_id) continue
      if (filter.level !== undefined && r.level !== filter.level) continue
      if (filter.since_ms !== undefined && r.time_ms < filter.since_ms) continue
      out.push(r)
    }
    return out
  }
}
