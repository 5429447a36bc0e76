/**
 * The storage options a module with a {@link KvAdapter} takes (`state`, `streams`). Only the
 * adapters this build has are accepted: a later release adds `redis`.
 */
import { z } from 'zod'

/** The adapters this build can create. */
export const ADAPTERS = ['sqlite', 'memory'] as const

export const storeOptions = z
  .object({
    adapter: z
      .enum(ADAPTERS, {
        error: (issue) =>
          typeof issue.input === 'string'
            ? `the "${issue.input}" adapter is not available in this build (use ${ADAPTERS.join(' or ')})`
            : `adapter must be ${ADAPTERS.map((a) => `"${a}"`).join(' or ')}`,
      })
      .default('sqlite'),
    max_value_bytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
  })
  .strict()

export type StoreOptions = z.infer<typeof storeOptions>
