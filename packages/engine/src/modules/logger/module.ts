/**
 * `logger.log`: workers send their log lines here, so one place shows what every worker did,
 * with trace ids. Values under secret-looking keys are replaced before anything is written.
 */
import { ErrorCode, IIIError } from '../../errors.js'
import type { EngineApi, EngineModule } from '../module.js'

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

export class LoggerModule implements EngineModule {
  readonly name = 'logger'

  constructor(private readonly write: (line: string) => void = (line) => process.stdout.write(line)) {}

  async start(engine: EngineApi): Promise<void> {
    engine.registerFunction(
      'logger.log',
      (data) => {
        if (typeof data !== 'object' || data === null) {
          throw new IIIError(ErrorCode.InvalidArgument, 'logger.log needs an object {level, message}')
        }
        const { level, message, trace_id, function_path } = data
        if (typeof level !== 'string' || !levels.has(level)) {
          throw new IIIError(ErrorCode.InvalidArgument, `logger.log: level must be one of ${[...levels].join(', ')}`)
        }
        if (typeof message !== 'string')
          throw new IIIError(ErrorCode.InvalidArgument, 'logger.log: message must be a string')
        const record: Record<string, unknown> = { time: new Date().toISOString(), level, message }
        if (typeof function_path === 'string') record.function_path = function_path
        if (typeof trace_id === 'string') record.trace_id = trace_id
        if (data.data !== undefined) record.data = redact(data.data)
        this.write(`${JSON.stringify(record)}\n`)
        return null
      },
      { description: 'Writes a log line from a worker, with its trace id' },
    )
  }

  async stop(): Promise<void> {}
}
