/**
 * Cron: fires each `cron` trigger once per scheduled time. Expressions have 5 fields, or 6
 * with seconds first; times are UTC unless `config.timezone` names an IANA zone.
 *
 * Each job keeps one timer to its next scheduled time and computes the time after that from
 * the scheduled time (not from the clock), so a tick never fires twice. Ticks missed while
 * the process was stalled are skipped, with a warning, rather than fired in a burst.
 */
import { CronExpressionParser } from 'cron-parser'
import { ErrorCode, IIIError } from '../../errors.js'
import type { EngineApi, EngineModule, TriggerRecord } from '../types.js'

const MAX_TIMER_MS = 2 ** 31 - 1

interface Job {
  trigger: TriggerRecord
  expression: string
  timezone: string
  timer?: NodeJS.Timeout
  /** The scheduled time the timer is set for. */
  next: number
}

export function parseCron(expression: unknown, timezone: unknown, from: Date) {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new IIIError(ErrorCode.InvalidTrigger, 'cron trigger needs config.expression, a crontab string')
  }
  const fields = expression.trim().split(/\s+/).length
  if (fields !== 5 && fields !== 6) {
    throw new IIIError(
      ErrorCode.InvalidTrigger,
      `cron expression "${expression}" has ${fields} fields; use 5 (minute first) or 6 (seconds first)`,
    )
  }
  const tz = timezone ?? 'UTC'
  if (typeof tz !== 'string' || !isTimeZone(tz)) {
    throw new IIIError(ErrorCode.InvalidTrigger, `cron timezone ${JSON.stringify(timezone)} is not an IANA time zone`)
  }
  try {
    return CronExpressionParser.parse(expression, { currentDate: from, tz })
  } catch (err) {
    throw new IIIError(
      ErrorCode.InvalidTrigger,
      `cron expression "${expression}" is invalid: ${(err as Error).message}`,
    )
  }
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

export class CronModule implements EngineModule {
  readonly name = 'cron'
  private readonly jobs = new Map<string, Job>()
  private engine!: EngineApi

  async start(engine: EngineApi): Promise<void> {
    this.engine = engine
    engine.registerTriggerType(
      'cron',
      {
        register: (t) => {
          const timezone = (t.config.timezone as string | undefined) ?? 'UTC'
          parseCron(t.config.expression, t.config.timezone, new Date())
          const job: Job = { trigger: t, expression: (t.config.expression as string).trim(), timezone, next: 0 }
          this.jobs.set(t.id, job)
          this.schedule(job, Date.now())
        },
        unregister: (t) => {
          const job = this.jobs.get(t.id)
          if (job === undefined) return
          clearTimeout(job.timer)
          this.jobs.delete(t.id)
        },
      },
      'Runs the function on a crontab schedule (config.expression, config.timezone)',
    )
  }

  /** Arms the job's timer for its first scheduled time strictly after `after`. */
  private schedule(job: Job, after: number): void {
    job.next = parseCron(job.expression, job.timezone, new Date(after)).next().getTime()
    this.arm(job)
  }

  private arm(job: Job): void {
    const delay = Math.min(Math.max(job.next - Date.now(), 0), MAX_TIMER_MS)
    job.timer = setTimeout(() => this.tick(job), delay)
  }

  private tick(job: Job): void {
    if (this.jobs.get(job.trigger.id) !== job) return
    const now = Date.now()
    if (now < job.next) return this.arm(job) // woke early (or a long delay was capped)
    const scheduled = job.next
    this.fire(job, scheduled, now)
    const following = parseCron(job.expression, job.timezone, new Date(scheduled)).next().getTime()
    if (following <= now) {
      // The process stalled past one or more ticks: skip them and wait for the next one.
      this.engine.log.warn(`cron ${job.trigger.id} (${job.expression}) skipped ticks missed while the engine stalled`)
      this.schedule(job, now)
    } else {
      job.next = following
      this.arm(job)
    }
  }

  private fire(job: Job, scheduled: number, actual: number): void {
    const t = job.trigger
    this.engine
      .invoke(
        t.function_path,
        { scheduled_time: new Date(scheduled).toISOString(), actual_time: new Date(actual).toISOString() },
        { trigger: { type: 'cron', id: t.id, expression: job.expression } },
      )
      .catch((err) => {
        const level = err.code === ErrorCode.ConditionFailed ? 'debug' : 'warn'
        this.engine.log[level](`cron ${t.id} -> ${t.function_path}: ${err.message}`)
      })
  }

  async stop(): Promise<void> {
    for (const job of this.jobs.values()) clearTimeout(job.timer)
    this.jobs.clear()
  }
}
