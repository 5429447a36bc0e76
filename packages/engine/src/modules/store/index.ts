/**
 * The store seam: the {@link KvAdapter} interface, its implementations and the factory that
 * picks one by its config name.
 */
import { join } from 'node:path'
import { IIIError } from '../../errors.js'
import { MemoryAdapter } from './memory.js'
import type { StoreOptions } from './options.js'
import { SqliteAdapter } from './sqlite.js'
import type { KvAdapter } from './types.js'

export * from './input.js'
export { MemoryAdapter } from './memory.js'
export { applyOps, type Path, parseOps, parsePath, type UpdateOp } from './ops.js'
export { ADAPTERS, type StoreOptions, storeOptions } from './options.js'
export { SqliteAdapter, type SqliteAdapterOptions } from './sqlite.js'
export type { AdapterOptions, Entry, JsonValue, KvAdapter, WriteResult } from './types.js'

/** What a module passes to {@link createAdapter}: its store options from the config. */
export type StoreConfig = StoreOptions

/**
 * Builds the adapter named in a module's config. `namespace` is the module's name: the sqlite
 * adapter keeps it in its own file `<dataDir>/<namespace>.db` (`state.db`, `streams.db`), and a
 * networked adapter will prefix its keys with it. Throws one sentence for a name it cannot
 * build, which stops the engine at start-up.
 */
export function createAdapter(options: StoreConfig, dataDir: string, namespace: string): KvAdapter {
  switch (options.adapter) {
    case 'memory':
      return new MemoryAdapter({ maxValueBytes: options.max_value_bytes })
    case 'sqlite':
      return new SqliteAdapter({ maxValueBytes: options.max_value_bytes, file: join(dataDir, `${namespace}.db`) })
    default:
      // The options schema accepts only the adapters above; this is for callers that skip it.
      throw new IIIError(
        'invalid_argument',
        `store: the "${(options as { adapter: string }).adapter}" adapter is not available in this build (use sqlite or memory)`,
      )
  }
}
