/** The `event` module's options (`modules.event` in the config); see docs/events.md. */
import * as z from 'zod/mini'
import { positive } from '../../schema.js'

export const eventOptions = z.strictObject({
  /** Store events and deliver them at least once (true), or the lossy in-memory fan-out (false). */
  durable: z._default(z.boolean(), true),
  /** How long a subscription whose workers all left keeps collecting events for them. */
  subscription_ttl_ms: z._default(positive(), 3_600_000),
  /** How long an idempotency key dedups emits on its topic. */
  idempotency_ttl_ms: z._default(positive(), 86_400_000),
  /** How long dead letters are kept. */
  dead_letter_retention_ms: z._default(positive(), 7 * 86_400_000),
  /** How often TTL expiry, retention and lost leases are checked. */
  sweep_interval_ms: z._default(positive().check(z.lte(60_000)), 1000),
  /** `normal` survives a killed engine; `full` also survives power loss (one fsync per commit). */
  synchronous: z._default(z.enum(['normal', 'full']), 'normal'),
  /**
   * Where durable events are stored: `sqlite` (this engine's `events.db`) or `redis` (the
   * engine's Redis, shared by the cluster). Without it: `redis` when the engine has a Redis.
   */
  adapter: z.optional(z.enum(['sqlite', 'redis'], { error: 'adapter must be "sqlite" or "redis"' })),
})

export type EventOptions = z.infer<typeof eventOptions>

/** Chooses the event store: the module's own `adapter`, else `redis` with an engine Redis, else `sqlite`. */
export function resolveEventOptions(o: EventOptions, hasRedis: boolean): EventOptions {
  const adapter = o.adapter ?? (hasRedis ? 'redis' : 'sqlite')
  if (adapter === 'redis' && !hasRedis) {
    throw new Error('modules.event.adapter is redis but no Redis is set (use --redis, III_REDIS_URL or redis.url)')
  }
  return { ...o, adapter }
}
