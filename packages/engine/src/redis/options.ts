/** The `redis:` options: where the cluster's Redis is and the prefix of every key there. */
import { z } from 'zod'

export const redisOptions = z
  .object({
    url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
    /** Put in front of every key, so that several clusters can share one Redis. */
    prefix: z
      .string()
      .regex(/^[^{}]*$/, 'may not contain { or }')
      .default('iii:'),
  })
  .strict()

/** A Redis to connect to and the prefix of every key there. */
export type RedisOptions = z.infer<typeof redisOptions>
