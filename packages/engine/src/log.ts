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
      write(
        `${escapeControls(JSON.stringify({ time: now.toISOString(), level: lvl, message, source: 'engine', ...fields }))}\n`,
      )
    } else {
      const extra = hasFields ? ` ${escapeControls(JSON.stringify(fields))}` : ''
      write(`${now.toISOString()} ${lvl.toUpperCase().padEnd(5)} ${escapeControls(message)}${extra}\n`)
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

/** C0 and C1 control characters, DEL, and the two Unicode line separators. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/**
 * A log line's text with its control characters written as escapes (`\n`, `\r`, `\t`,
 * else `\u001b` and the like), so a user string in it (a trigger id, a function path, a
 * route) can neither start a forged line nor send terminal escape sequences. The escapes are
 * JSON escapes too, so a JSON line stays valid JSON with the same value (JSON.stringify
 * leaves DEL, C1 controls and U+2028/U+2029 as they are).
 */
export function escapeControls(message: string): string {
  CONTROLS.lastIndex = 0
  if (!CONTROLS.test(message)) return message
  return message.replace(CONTROLS, (c) => {
    const named = NAMED[c]
    if (named !== undefined) return named
    const code = c.charCodeAt(0)
    return `\\u${code.toString(16).padStart(4, '0')}`
  })
}
