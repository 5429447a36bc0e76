/**
 * The storage options a module with a {@link KvAdapter} takes (`state`, `streams`). Without an
 * `adapter` the module uses `redis` when the engine has a Redis (`--redis`) and `sqlite`
 * otherwise; `redis: {url?, prefix?}` gives the module its own Redis or prefix.
 */

import * as z from 'zod/mini'
import { type RedisOptions, redisOptions } from '../../redis/options.js'
import { positive } from '../../schema.js'

/** The adapters this build can create. */
export const ADAPTERS = ['sqlite', 'memory', 'redis'] as const

export const storeOptions = z.strictObject({
  adapter: z.optional(
    z.enum(ADAPTERS, {
      error: (issue) =>
        typeof issue.input === 'string'
          ? `the "${issue.input}" adapter is not available in this build (use ${ADAPTERS.join(', ')})`
          : `adapter must be ${ADAPTERS.map((a) => `"${a}"`).join(', ')}`,
    }),
  ),
  redis: z.optional(z.partial(redisOptions)),
  max_value_bytes: z._default(positive(), 1024 * 1024),
})

/** A module's store options as written in the config. */
export type RawStoreOptions = z.infer<typeof storeOptions>

/** A module's store options, resolved: the adapter is chosen, and `redis` is set for `redis`. */
export type StoreOptions = Omit<RawStoreOptions, 'adapter' | 'redis'> & {
  adapter: (typeof ADAPTERS)[number]
  redis?: RedisOptions
}

/**
 * Chooses a module's adapter: its own `adapter`, else `redis` when the engine has one, else
 * `sqlite`. Throws one sentence (`where` names the module) when `redis` has no URL anywhere.
 */
export function resolveStore<T extends RawStoreOptions>(
  o: T,
  engineRedis: RedisOptions | null,
  where: string,
): Omit<T, 'adapter' | 'redis'> & StoreOptions {
  const { adapter: chosen, redis: own, ...rest } = o
  const adapter = chosen ?? (engineRedis ? 'redis' : 'sqlite')
  if (adapter !== 'redis') return { ...rest, adapter }
  const url = own?.url ?? engineRedis?.url
  if (url === undefined) {
    throw new Error(
      `${where}.adapter is redis but no Redis is set (use --redis, III_REDIS_URL, redis.url or ${where}.redis.url)`,
    )
  }
  return { ...rest, adapter, redis: { url, prefix: own?.prefix ?? engineRedis?.prefix ?? 'iii:' } }
}
