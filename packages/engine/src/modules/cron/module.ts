/**
 * Cron: fires each `cron` trigger once per scheduled time. Expressions have 5 fields, or 6
 * with seconds first; times are UTC unless `config.timezone` names an IANA zone.
 *
 * Each job keeps its parsed expression and steps it from one scheduled time to the next (not
 * from the clock), so a tick never fires twice. Jobs due at the same instant share one timer
 * and fire in one turn. Ticks missed while the process was stalled are skipped, with a
 * warning, rather than fired in a burst.
 */
import { CronExpressionParser } from 'cron-parser'
import { ErrorCode, IIIError } from '../../errors.js'
import { fireTriggers } from '../fire.js'
import type { EngineApi, EngineModule, TriggerRecord } from '../module.js'

const MAX_TIMER_MS = 2 ** 31 - 1

type CronIterator = ReturnType<typeof CronExpressionParser.parse>

interface Job {
  trigger: TriggerRecord
  expression: string
  timezone: string
  /** The parsed expression, positioned at `next`. */
  iterator: CronIterator
  /** The scheduled time the job waits for. */
  next: number
}

/** The jobs due at one instant, behind one timer. */
interface Bucket {
  time: number
  jobs: Set<Job>
  timer?: NodeJS.Timeout
}

const zones = new Map<string, boolean>()

export function parseCron(expression: unknown, timezone: unknown, from: Date): CronIterator {
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
  let known = zones.get(tz)
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz })
      known = true
    } catch {
      known = false
    }
    zones.set(tz, known)
  }
  return known
}

export class CronModule implements EngineModule {
  readonly name = 'cron'
  private readonly jobs = new Map<string, Job>()
  private readonly buckets = new Map<number, Bucket>()
  private engine!: EngineApi

  async start(engine: EngineApi): Promise<void> {
    this.engine = engine
    engine.registerTriggerType(
      'cron',
      {
        register: (t) => {
          const timezone = (t.config.timezone as string | undefined) ?? 'UTC'
          const iterator = parseCron(t.config.expression, t.config.timezone, new Date())
          const job: Job = {
            trigger: t,
            expression: (t.config.expression as string).trim(),
            timezone,
            iterator,
            next: 0,
          }
          this.jobs.set(t.id, job)
          this.advance(job, Date.now())
        },
        unregister: (t) => {
          const job = this.jobs.get(t.id)
          if (job === undefined) return
          this.jobs.delete(t.id)
          const bucket = this.buckets.get(job.next)
          bucket?.jobs.delete(job)
          if (bucket !== undefined && bucket.jobs.size === 0) {
            clearTimeout(bucket.timer)
            this.buckets.delete(bucket.time)
          }
        },
      },
      'Runs the function on a crontab schedule (config.expression, config.timezone)',
    )
  }

  /** Moves the job to its first scheduled time strictly after `after` and queues it there. */
  private advance(job: Job, after: number): void {
    let next = job.iterator.next().getTime()
    if (next <= after) {
      // The process stalled past one or more ticks: skip them rather than fire a burst.
      if (job.next !== 0) {
        this.engine.log.warn(`cron ${job.trigger.id} (${job.expression}) skipped ticks missed while the engine stalled`)
      }
      job.iterator = parseCron(job.expression, job.timezone, new Date(after))
      next = job.iterator.next().getTime()
    }
    job.next = next
    let bucket = this.buckets.get(next)
    if (bucket === undefined) {
      bucket = { time: next, jobs: new Set() }
      this.buckets.set(next, bucket)
      this.arm(bucket)
    }
    bucket.jobs.add(job)
  }

  private arm(bucket: Bucket): void {
    const delay = Math.min(Math.max(bucket.time - Date.now(), 0), MAX_TIMER_MS)
    bucket.timer = setTimeout(() => this.tick(bucket), delay)
  }

  /** Fires every job due at the bucket's time, in one turn (so their frames share writes). */
  private tick(bucket: Bucket): void {
    const now = Date.now()
    if (now < bucket.time) return this.arm(bucket) // woke early (or a long delay was capped)
    this.buckets.delete(bucket.time)
    for (const job of bucket.jobs) {
      if (this.jobs.get(job.trigger.id) !== job) continue
      this.fire(job, bucket.time, now)
      this.advance(job, now)
    }
  }

  private fire(job: Job, scheduled: number, actual: number): void {
    fireTriggers(
      this.engine,
      [job.trigger],
      { scheduled_time: new Date(scheduled).toISOString(), actual_time: new Date(actual).toISOString() },
      (t) => ({ type: 'cron', id: t.id, expression: job.expression }),
    )
  }

  async stop(): Promise<void> {
    for (const bucket of this.buckets.values()) clearTimeout(bucket.timer)
    this.buckets.clear()
    this.jobs.clear()
  }
}
