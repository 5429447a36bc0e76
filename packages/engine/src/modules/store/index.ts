/**
 * The store seam: the {@link KvAdapter} interface, its implementations and the factory that
 * picks one by its config name.
 */
import { join } from 'node:path'
import { IIIError } from '../../errors.js'
import type { SharedRedis } from '../../redis/shared.js'
import { MemoryAdapter } from './memory.js'
import type { StoreOptions } from './options.js'
import { RedisAdapter } from './redis.js'
import { SqliteAdapter } from './sqlite.js'
import type { KvAdapter } from './types.js'

export * from './input.js'
export { compare as byCodePoint, MemoryAdapter } from './memory.js'
export { applyOps, type Path, parseOps, parsePath, type UpdateOp } from './ops.js'
export { ADAPTERS, type StoreOptions, storeOptions } from './options.js'
export { RedisAdapter, type RedisAdapterOptions } from './redis.js'
export { SqliteAdapter, type SqliteAdapterOptions } from './sqlite.js'
export type {
  AdapterOptions,
  Entry,
  JsonValue,
  KvAdapter,
  TextUpdateResult,
  TextWriteResult,
  WriteResult,
} from './types.js'

/** What a module passes to {@link createAdapter}: its store options from the config. */
export type StoreConfig = StoreOptions

/**
 * Builds the adapter named in a module's config. `namespace` is the module's name: the sqlite
 * adapter keeps it in its own file `<dataDir>/<namespace>.db` (`state.db`, `streams.db`), and the
 * redis adapter puts it in its keys. The redis adapter uses the engine's connection (`shared`)
 * when the module's Redis is the engine's, and its own otherwise. Throws one sentence for a
 * name it cannot build, which stops the engine at start-up.
 */
export function createAdapter(
  options: StoreConfig,
  dataDir: string,
  namespace: string,
  shared: SharedRedis | null = null,
): KvAdapter {
  switch (options.adapter) {
    case 'memory':
      return new MemoryAdapter({ maxValueBytes: options.max_value_bytes })
    case 'sqlite':
      return new SqliteAdapter({ maxValueBytes: options.max_value_bytes, file: join(dataDir, `${namespace}.db`) })
    case 'redis': {
      const redis = options.redis
      if (redis === undefined) throw new IIIError('invalid_argument', 'store: the redis adapter needs a Redis URL')
      const client = shared?.settings.url === redis.url ? shared.client : undefined
      return new RedisAdapter({ maxValueBytes: options.max_value_bytes, namespace, ...redis, client })
    }
    default:
      // The options schema accepts only the adapters above; this is for callers that skip it.
      throw new IIIError(
        'invalid_argument',
        `store: the "${(options as { adapter: string }).adapter}" adapter is not available in this build (use sqlite, memory or redis)`,
      )
  }
}
