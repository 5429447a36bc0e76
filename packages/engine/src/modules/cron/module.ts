/**
 * Cron: fires each `cron` trigger once per scheduled time. Expressions have 5 fields, 6 with
 * seconds first, or 7 with seconds first and a year last (the original engine's form); times
 * are UTC unless `config.timezone` names an IANA zone. The payload is
 * `{scheduled_time, actual_time}`, with the original's `trigger: "cron"` and `job_id` (the
 * trigger id) beside them.
 *
 * Each job keeps its parsed expression and steps it from one scheduled time to the next (not
 * from the clock), so a tick never fires twice. Jobs due at the same instant share one timer
 * and fire in one turn. Ticks missed while the process was stalled are skipped, with a
 * warning, rather than fired in a burst.
 *
 * A cron job is the triple (function_path, expression, timezone): every replica of a worker
 * registers the same one, and it fires once per tick however many triggers carry it. On one
 * engine the triggers of a job share each tick; in a cluster (a shared Redis) the engine
 * whose timer comes first claims the tick with `SET <job>:<scheduled time> NX PX` and fires it,
 * and the others see the claim and do not. A claim is never released (it expires long after
 * the tick), so a tick fires once whatever the handler's duration or a clock skew shorter
 * than the claim's life. While Redis cannot be reached ticks are skipped (with a warning),
 * never fired twice.
 */
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import type { CronExpressionParser } from 'cron-parser'
import { ErrorCode, IIIError } from '../../errors.js'
import type { SharedRedis } from '../../redis/shared.js'
import { fireTriggers } from '../fire.js'
import type { EngineApi, EngineModule, TriggerRecord } from '../module.js'
import { parseYearField, type YearField } from './year.js'

const MAX_TIMER_MS = 2 ** 31 - 1

type CronIterator = ReturnType<typeof CronExpressionParser.parse>

let cronParser: typeof CronExpressionParser | undefined
/**
 * cron-parser, loaded at the first cron trigger rather than at start: with luxon it is a
 * third of the engine's bundle, and an engine without cron triggers never needs it.
 */
const parser = (): typeof CronExpressionParser =>
  (cronParser ??= (createRequire(import.meta.url)('cron-parser') as typeof import('cron-parser')).CronExpressionParser)

/** A parsed expression positioned at a time: {@link next} steps to the following scheduled time. */
export interface Schedule {
  /** The next scheduled time in ms, or undefined when the expression has no more (a past year). */
  next(): number | undefined
}

interface Job {
  trigger: TriggerRecord
  /** The job's identity: function path, expression and timezone. */
  key: string
  expression: string
  timezone: string
  /** The parsed expression, positioned at `next`. */
  iterator: Schedule
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

/** The shortest a tick's claim lives, so clocks that differ by less fire a tick once. */
const MIN_CLAIM_MS = 60_000
/** The longest: ticks further apart than this are claimed for this long. */
const MAX_CLAIM_MS = 7 * 24 * 3600_000

export function parseCron(expression: unknown, timezone: unknown, from: Date): Schedule {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new IIIError(ErrorCode.InvalidTrigger, 'cron trigger needs config.expression, a crontab string')
  }
  const fields = expression.trim().split(/\s+/)
  if (fields.length < 5 || fields.length > 7) {
    throw new IIIError(
      ErrorCode.InvalidTrigger,
      `cron expression "${expression}" has ${fields.length} fields; use 5 (minute first), 6 (seconds first) or 7 (seconds first, year last)`,
    )
  }
  const tz = timezone ?? 'UTC'
  if (typeof tz !== 'string' || !isTimeZone(tz)) {
    throw new IIIError(ErrorCode.InvalidTrigger, `cron timezone ${JSON.stringify(timezone)} is not an IANA time zone`)
  }
  const parse = (at: Date): CronIterator => parser().parse(fields.slice(0, 6).join(' '), { currentDate: at, tz })
  let iterator: CronIterator
  let years: YearField | undefined
  try {
    years = fields.length === 7 ? parseYearField(fields[6]) : undefined
    iterator = parse(from)
  } catch (err) {
    throw new IIIError(
      ErrorCode.InvalidTrigger,
      `cron expression "${expression}" is invalid: ${(err as Error).message}`,
    )
  }
  if (years === undefined) return { next: () => iterator.next().getTime() }
  const allowed = years
  const yearOf = yearReader(tz)
  return {
    next: () => {
      for (let i = 0; i < 1000; i++) {
        const t = iterator.next().getTime()
        const year = yearOf(t)
        if (allowed.allows(year)) return t
        const next = allowed.nextFrom(year + 1)
        if (next === undefined) return undefined
        // Jump to (just before) the first moment of the next allowed year, wherever the zone is.
        iterator = parse(new Date(Date.UTC(next, 0, 1) - 15 * 3600_000))
      }
      return undefined
    },
  }
}

/** The calendar year of a time in a zone. */
function yearReader(tz: string): (t: number) => number {
  if (tz === 'UTC') return (t) => new Date(t).getUTCFullYear()
  const format = new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric' })
  return (t) => Number(format.format(t))
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
  /** The last scheduled time each job (by key) fired on this engine. */
  private readonly fired = new Map<string, number>()
  private engine!: EngineApi
  private lastClaimWarning = 0
  /** Set by drain(): no more ticks. */
  private draining = false

  constructor(private readonly shared: SharedRedis | null = null) {}

  async start(engine: EngineApi): Promise<void> {
    this.engine = engine
    engine.registerTriggerType(
      'cron',
      {
        register: (t) => {
          const timezone = (t.config.timezone as string | undefined) ?? 'UTC'
          const iterator = parseCron(t.config.expression, t.config.timezone, new Date())
          const expression = (t.config.expression as string).trim().split(/\s+/).join(' ')
          const job: Job = {
            trigger: t,
            key: `${t.function_path}\n${expression}\n${timezone}`,
            expression,
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
          if (![...this.jobs.values()].some((j) => j.key === job.key)) this.fired.delete(job.key)
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
    let next = job.iterator.next()
    if (next !== undefined && next <= after) {
      // The process stalled past one or more ticks: skip them rather than fire a burst.
      if (job.next !== 0) {
        this.engine.log.warn(`cron ${job.trigger.id} (${job.expression}) skipped ticks missed while the engine stalled`)
      }
      job.iterator = parseCron(job.expression, job.timezone, new Date(after))
      next = job.iterator.next()
    }
    if (next === undefined) {
      this.engine.log.warn(`cron ${job.trigger.id} (${job.expression}) has no scheduled time left; it will not fire`)
      return
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
    if (this.draining) return
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
      // Replicas of one job on this engine share the tick: the first of them fires it.
      const due = (this.fired.get(job.key) ?? -1) < bucket.time
      this.advance(job, now)
      if (!due) continue
      this.fired.set(job.key, bucket.time)
      if (this.shared) void this.claimAndFire(job, bucket.time, now)
      else this.fire(job, bucket.time, now)
    }
  }

  /** Fires the tick if this engine is the first of the cluster to claim it. */
  private async claimAndFire(job: Job, scheduled: number, actual: number): Promise<void> {
    const shared = this.shared as SharedRedis
    const id = createHash('sha1').update(job.key).digest('hex')
    const period = job.next - scheduled // job.next is already the following tick
    const life = Math.min(Math.max(2 * period, MIN_CLAIM_MS), MAX_CLAIM_MS)
    try {
      const claimed = await shared.client.set(
        `${shared.prefix}cron:{${id}}:${scheduled}`,
        shared.engineId,
        'PX',
        life,
        'NX',
      )
      if (claimed === 'OK') this.fire(job, scheduled, actual)
    } catch (err) {
      const now = Date.now()
      if (now - this.lastClaimWarning < 5000) return
      this.lastClaimWarning = now
      this.engine.log.warn(
        `cron ${job.trigger.id}: tick skipped, Redis cannot be reached to claim it: ${(err as Error).message}`,
      )
    }
  }

  private fire(job: Job, scheduled: number, actual: number): void {
    fireTriggers(
      this.engine,
      [job.trigger],
      {
        scheduled_time: new Date(scheduled).toISOString(),
        actual_time: new Date(actual).toISOString(),
        trigger: 'cron',
        job_id: job.trigger.id,
      },
      (t) => ({ type: 'cron', id: t.id, expression: job.expression }),
    )
  }

  /** A shutting-down engine fires no more ticks; the calls of ticks already fired go on. */
  drain(): void {
    this.draining = true
    for (const bucket of this.buckets.values()) clearTimeout(bucket.timer)
  }

  async stop(): Promise<void> {
    for (const bucket of this.buckets.values()) clearTimeout(bucket.timer)
    this.buckets.clear()
    this.jobs.clear()
    this.fired.clear()
  }
}
