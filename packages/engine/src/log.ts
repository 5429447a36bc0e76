/** The engine's own log: one line per record, to stderr, below a level; text or JSON lines. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/** One log record as the log ring keeps it (`logs.list`). */
export interface LogRecord {
  time_ms: number
  level: string
  message: string
  trace_id?: string
  span_id?: string
  function_path?: string
  worker_id?: string
  data?: unknown
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
  enabled(level: LogLevel): boolean
  /** Also hands every record written from now on to `listener` (the log ring). */
  tap?(listener: (record: LogRecord) => void): void
  /** Hands a record written elsewhere (a worker's `logger.log` line) to the listeners only. */
  publish?(record: LogRecord): void
}

/** `text`: `time LEVEL message {fields}`; `json`: one JSON object per line (`log_format: json`). */
export type LogFormat = 'text' | 'json'

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (l) => process.stderr.write(l),
  format: LogFormat = 'text',
): Logger {
  const min = rank[level]
  const listeners: Array<(record: LogRecord) => void> = []
  const emit = (lvl: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < min) return
    const now = new Date()
    const hasFields = fields !== undefined && Object.keys(fields).length > 0
    if (format === 'json') {
      write(`${JSON.stringify({ time: now.toISOString(), level: lvl, message, source: 'engine', ...fields })}\n`)
    } else {
      const extra = hasFields ? ` ${JSON.stringify(fields)}` : ''
      write(`${now.toISOString()} ${lvl.toUpperCase().padEnd(5)} ${message}${extra}\n`)
    }
    if (listeners.length === 0) return
    const record: LogRecord = { time_ms: now.getTime(), level: lvl, message, worker_id: 'engine' }
    if (hasFields) record.data = fields
    for (const l of listeners) l(record)
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    enabled: (lvl) => rank[lvl] >= min,
    tap: (listener) => listeners.push(listener),
    publish: (record) => {
      for (const l of listeners) l(record)
    },
  }
}
