/**
 * A small structured logger. Each record is written locally as one line (with the trace id and
 * function path when there are some; with `format: 'json'` or `III_LOG_FORMAT=json` one JSON
 * object with the engine's field names, see {@link jsonLine}) and, when a forwarder is set, also sent to the engine's
 * `logger.log` built-in without waiting. Values under secret-looking keys are redacted before
 * anything is written or sent.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** `text`: `time LEVEL [trace=… fn=…] message {data}`; `json`: one JSON object per line. */
export type LogFormat = 'text' | 'json'

/** The worker a line comes from: the engine's id for this connection and the worker's name. */
export interface LogWorker {
  id?: string
  name?: string
}

/** What is forwarded to the engine's `logger.log`. */
export interface LogRecord {
  level: LogLevel
  message: string
  trace_id?: string
  function_path?: string
  data?: unknown
}

export interface LoggerOptions {
  /** The lowest level written and forwarded; `III_LOG_LEVEL` or `info` when not given. */
  level?: LogLevel | 'silent'
  traceId?: string
  /** The span the line belongs to (the one in the call's `traceparent`). */
  spanId?: string
  functionPath?: string
  /** `text` or `json`; `III_LOG_FORMAT` or `text` when not given. */
  format?: LogFormat
  /** The worker stamped on JSON lines, asked for each line (its id changes on reconnect). */
  worker?: () => LogWorker
  /** Sends a record to the engine; leave out to log locally only. Must not throw. */
  forward?: (record: LogRecord) => void
  /** Where local lines go; by default debug/info to stdout, warn/error to stderr (JSON lines: all to stdout). */
  write?: (line: string, level: LogLevel) => void
}

const ranks: Record<LogLevel | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

/** The level from `III_LOG_LEVEL`, or `info`. */
export function defaultLogLevel(): LogLevel | 'silent' {
  const env = process.env.III_LOG_LEVEL?.toLowerCase()
  return env !== undefined && env in ranks ? (env as LogLevel | 'silent') : 'info'
}

/** The format from `III_LOG_FORMAT` (`json` or `text`), or `text`. */
export function defaultLogFormat(): LogFormat {
  return process.env.III_LOG_FORMAT?.toLowerCase() === 'json' ? 'json' : 'text'
}

/** The keys every JSON line has; a data field of the same name does not replace them. */
const RESERVED = [
  'time',
  'level',
  'message',
  'source',
  'trace_id',
  'span_id',
  'function_path',
  'worker_id',
  'worker_name',
]

/**
 * One JSON log line (`log_format: json`), the engine's field names: `time` (ISO 8601), `level`,
 * `message`, `source: "worker"`, `trace_id`, `span_id`, `function_path`, `worker_id`,
 * `worker_name` (null when unknown), then the record's data: an object's fields at the top
 * level (a reserved name is left out), anything else as `data`. Already redacted.
 */
export function jsonLine(
  time: Date,
  level: LogLevel,
  message: string,
  data: unknown,
  at: { traceId?: string; spanId?: string; functionPath?: string; worker?: LogWorker },
): string {
  const line: Record<string, unknown> = {
    time: time.toISOString(),
    level,
    message,
    source: 'worker',
    trace_id: at.traceId ?? null,
    span_id: at.spanId ?? null,
    function_path: at.functionPath ?? null,
    worker_id: at.worker?.id ?? null,
    worker_name: at.worker?.name ?? null,
  }
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    for (const [k, v] of Object.entries(data)) if (!RESERVED.includes(k)) line[k] = v
  } else if (data !== undefined) line.data = data
  return stringify(line)
}

/** JSON lines all go to stdout: one stream for a log collector. */
function stdoutWrite(line: string): void {
  process.stdout.write(`${line}\n`)
}

function defaultWrite(line: string, level: LogLevel): void {
  if (level === 'warn' || level === 'error') process.stderr.write(`${line}\n`)
  else process.stdout.write(`${line}\n`)
}

/**
 * The keys whose values are redacted, matched whole and case-insensitively (`tokenizer` is
 * kept). The same list as the Python SDK: protocol/sdk-cases.json `redaction.secret_keys`.
 */
export const SECRET_KEYS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api_key',
  'api-key',
  'apikey',
  'token',
  'access_token',
  'access-token',
  'refresh_token',
  'password',
  'passwd',
  'secret',
  'client_secret',
]

/** The URL query parameters whose values are redacted in strings (`?token=...`). */
export const SECRET_QUERY_PARAMS: readonly string[] = [
  'token',
  'access_token',
  'api_key',
  'apikey',
  'key',
  'password',
  'secret',
]

const secretKeys = new Set(SECRET_KEYS)
const secretQuery = new RegExp(`([?&](?:${SECRET_QUERY_PARAMS.join('|')})=)[^&#\\s]*`, 'gi')

/** Replaces the values of secret query parameters ({@link SECRET_QUERY_PARAMS}) in a string. */
export function redactUrl(url: string): string {
  return url.replace(secretQuery, '$1[redacted]')
}

/**
 * A copy of `value` with the values under {@link SECRET_KEYS} replaced by `[redacted]` and
 * secret query parameters redacted in strings (depth-limited; cycles become `[...]`).
 */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return value.includes('=') ? redactUrl(value) : value
  if (typeof value !== 'object' || value === null) return value
  if (depth > 8 || seen.has(value)) return '[...]'
  seen.add(value)
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen))
  if (value instanceof Error) return { name: value.name, message: value.message }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    out[k] = secretKeys.has(k.toLowerCase()) ? '[redacted]' : redact(v, depth + 1, seen)
  }
  return out
}

function stringify(data: unknown): string {
  try {
    return JSON.stringify(data) ?? String(data)
  } catch {
    return String(data)
  }
}

/** Logs with a fixed trace id and function path. Safe to call from anywhere; never throws. */
export class Logger {
  readonly traceId?: string
  readonly spanId?: string
  readonly functionPath?: string
  readonly format: LogFormat
  private readonly worker?: () => LogWorker
  private readonly level: LogLevel | 'silent'
  private readonly forwardFn?: (record: LogRecord) => void
  private readonly writeFn: (line: string, level: LogLevel) => void

  constructor(options: LoggerOptions = {}) {
    this.level = options.level ?? defaultLogLevel()
    if (options.traceId !== undefined) this.traceId = options.traceId
    if (options.spanId !== undefined) this.spanId = options.spanId
    this.format = options.format ?? defaultLogFormat()
    if (options.worker !== undefined) this.worker = options.worker
    if (options.functionPath !== undefined) this.functionPath = options.functionPath
    if (options.forward !== undefined) this.forwardFn = options.forward
    this.writeFn = options.write ?? (this.format === 'json' ? stdoutWrite : defaultWrite)
  }

  /** A logger with the same level and destinations, for another trace or function. */
  child(fields: { traceId?: string; spanId?: string; functionPath?: string }): Logger {
    return new Logger({
      level: this.level,
      format: this.format,
      worker: this.worker,
      traceId: fields.traceId ?? this.traceId,
      spanId: fields.spanId ?? (fields.traceId === undefined ? this.spanId : undefined),
      functionPath: fields.functionPath ?? this.functionPath,
      forward: this.forwardFn,
      write: this.writeFn,
    })
  }

  debug(message: string, data?: unknown): void {
    this.log('debug', message, data)
  }
  info(message: string, data?: unknown): void {
    this.log('info', message, data)
  }
  warn(message: string, data?: unknown): void {
    this.log('warn', message, data)
  }
  error(message: string, data?: unknown): void {
    this.log('error', message, data)
  }

  log(level: LogLevel, message: string, data?: unknown): void {
    if (ranks[level] < ranks[this.level]) return
    const safe = data === undefined ? undefined : redact(data)
    const text = redactUrl(String(message))
    const now = new Date()
    let line: string
    if (this.format === 'json') {
      let worker: LogWorker | undefined
      try {
        worker = this.worker?.()
      } catch {
        worker = undefined
      }
      line = jsonLine(now, level, text, safe, {
        traceId: this.traceId,
        spanId: this.spanId,
        functionPath: this.functionPath,
        worker,
      })
    } else {
      const tags = [this.traceId && `trace=${this.traceId}`, this.functionPath && `fn=${this.functionPath}`]
        .filter(Boolean)
        .join(' ')
      line = `${now.toISOString()} ${level.toUpperCase().padEnd(5)}${tags ? ` [${tags}]` : ''} ${text}${
        safe === undefined ? '' : ` ${stringify(safe)}`
      }`
    }
    try {
      this.writeFn(line, level)
    } catch {
      // a broken stdout must not break the caller
    }
    if (this.forwardFn === undefined) return
    const record: LogRecord = { level, message: text }
    if (this.traceId !== undefined) record.trace_id = this.traceId
    if (this.functionPath !== undefined) record.function_path = this.functionPath
    if (safe !== undefined) record.data = safe
    try {
      this.forwardFn(record)
    } catch {
      // forwarding is best effort
    }
  }
}
