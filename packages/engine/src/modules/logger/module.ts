/**
 * `logger.log`: workers send their log lines here, so one place shows what every worker did,
 * with trace ids. Values under secret-looking keys are replaced before anything is written.
 *
 * From the original engine: `logger.info|warn|error|debug {message, data?, trace_id?,
 * function_name?}` are `logger.log` with that level, and the `log` trigger type runs a
 * function for every line (`config.level` limits it to one level) with
 * `{level, message, trace_id, function_name, function_path, data, time, date}`. A line whose
 * `function_path` (or `function_name`) is the trigger's own function does not fire that trigger,
 * so a handler that logs (our SDKs and the original name the function they log from) cannot
 * feed itself; nor does a line logged by a built-in call a `log` trigger caused.
 */
import { ErrorCode, IIIError } from '../../errors.js'
import type { LogRecord } from '../../log.js'
import { fireTriggers } from '../fire.js'
import type { CallContext, EngineApi, EngineModule, TriggerRecord } from '../module.js'

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/
const levels = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
const secretKey = /authorization|cookie|password|passwd|secret|token|api[-_]?key|credential/i

/** Copies `value` with every secret-looking key's value replaced by "[redacted]". */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || depth > 32) return value
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = secretKey.test(k) ? '[redacted]' : redact(v, depth + 1)
  return out
}

/**
 * Prints each worker record as one JSON line on stdout. With `III_WORKER_LOGS=quiet` the records
 * are still validated and answered but not printed: for a terminal where the workers print
 * their own lines (as `motia dev` shows them), so that each line shows once.
 */
export class LoggerModule implements EngineModule {
  readonly name = 'logger'
  private readonly triggers = new Map<string, TriggerRecord>()

  constructor(
    private readonly write: ((line: string) => void) | null = process.env.III_WORKER_LOGS === 'quiet'
      ? null
      : (line) => process.stdout.write(line),
  ) {}

  async start(engine: EngineApi): Promise<void> {
    engine.registerFunction('logger.log', (data, ctx) => this.log(engine, 'logger.log', data, undefined, ctx), {
      description: 'Writes a log line from a worker, with its trace id',
    })
    for (const level of ['info', 'warn', 'error', 'debug']) {
      engine.registerFunction(`logger.${level}`, (data, ctx) => this.log(engine, `logger.${level}`, data, level, ctx), {
        description: `The original name of logger.log with level ${level}`,
      })
    }
    engine.registerTriggerType(
      'log',
      {
        register: (t) => {
          const level = t.config.level
          if (level !== undefined && level !== null && (typeof level !== 'string' || !levels.has(level))) {
            throw new IIIError(
              ErrorCode.InvalidTrigger,
              `log trigger ${t.id}: config.level must be one of ${[...levels].join(', ')}`,
            )
          }
          this.triggers.set(t.id, t)
        },
        unregister: (t) => {
          this.triggers.delete(t.id)
        },
      },
      'Runs the function for every log line (config.level limits it to one level)',
    )
  }

  private log(engine: EngineApi, fn: string, data: any, fixedLevel: string | undefined, ctx: CallContext): null {
    if (typeof data !== 'object' || data === null) {
      throw new IIIError(ErrorCode.InvalidArgument, `${fn} needs an object {${fixedLevel ? '' : 'level, '}message}`)
    }
    const { message, trace_id } = data
    const level = fixedLevel ?? data.level
    const function_path = data.function_path ?? data.function_name
    if (typeof level !== 'string' || !levels.has(level)) {
      throw new IIIError(ErrorCode.InvalidArgument, `${fn}: level must be one of ${[...levels].join(', ')}`)
    }
    if (typeof message !== 'string') throw new IIIError(ErrorCode.InvalidArgument, `${fn}: message must be a string`)
    const record: Record<string, unknown> = { time: new Date().toISOString(), level, message }
    if (typeof function_path === 'string' && function_path !== '') record.function_path = function_path
    if (typeof trace_id === 'string' && trace_id !== '') record.trace_id = trace_id
    if (data.data !== undefined) record.data = redact(data.data)
    // The call's context names the span (and the worker) when the line does not. A line without
    // a trace id was logged outside a handler: the fresh trace its call carries is not its own.
    const tp = typeof ctx.traceparent === 'string' ? TRACEPARENT.exec(ctx.traceparent) : null
    const own = tp !== null && tp[1] === record.trace_id
    const span_id = typeof data.span_id === 'string' && data.span_id !== '' ? data.span_id : own ? tp[2] : undefined
    if (span_id !== undefined) record.span_id = span_id
    if (ctx.workerId !== undefined) record.worker_id = ctx.workerId
    this.write?.(`${JSON.stringify(record)}\n`)
    engine.log.publish?.({ ...(record as unknown as LogRecord), time_ms: Date.now() })
    if (this.triggers.size > 0 && ctx.trigger?.type !== 'log') this.fire(engine, record, ctx)
    return null
  }

  /** Runs the `log` triggers whose level matches, with the line in the original's shape and ours. */
  private fire(engine: EngineApi, record: Record<string, unknown>, ctx: CallContext): void {
    const targets = [...this.triggers.values()].filter(
      (t) => (t.config.level == null || t.config.level === record.level) && t.function_path !== record.function_path,
    )
    const payload = { ...record, function_name: record.function_path, date: record.time }
    fireTriggers(engine, targets, payload, (t) => ({ type: 'log', id: t.id }), ctx)
  }

  async stop(): Promise<void> {
    this.triggers.clear()
  }
}
