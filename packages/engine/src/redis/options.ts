/** The `redis:` options: where the cluster's Redis is and the prefix of every key there. */
import * as z from 'zod/mini'
import { str } from '../schema.js'

export const redisOptions = z.strictObject({
  url: str(z.regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')),
  /** Put in front of every key, so that several clusters can share one Redis. */
  prefix: z._default(str(z.regex(/^[^{}]*$/, 'may not contain { or }')), 'iii:'),
})

/** A Redis to connect to and the prefix of every key there. */
export type RedisOptions = z.infer<typeof redisOptions>
