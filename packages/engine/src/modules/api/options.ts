/** The `api` module's options (`modules.api` in the config): the HTTP server's address and limits. */
import * as z from 'zod/mini'
import { port, positive, str } from '../../schema.js'

const corsOptions = z
  .strictObject({
    origins: z._default(z.array(str(z.minLength(1))), []),
    credentials: z._default(z.boolean(), false),
  })
  .check(
    z.refine((c) => !(c.credentials && c.origins.includes('*')), {
      message: 'cors.origins may not contain "*" when cors.credentials is true',
    }),
  )

export const apiOptions = z.strictObject({
  /** The HTTP server's address; the engine's `host` when absent. */
  host: z.optional(z.string()),
  port: z._default(port(), 3111),
  body_limit: z._default(positive(), 1024 * 1024),
  timeout_ms: z._default(positive(), 30_000),
  /** The whole request, body included, must arrive within this; else 408 `request_timeout`. */
  request_timeout_ms: z._default(positive(), 30_000),
  max_json_depth: z._default(positive(), 128),
  /** Requests handled at once; past it a 503 `too_many_requests` with `retry-after`. */
  max_concurrent_requests: z._default(positive(), 1024),
  cors: z._default(corsOptions, { origins: [], credentials: false }),
})

export type ApiOptions = z.infer<typeof apiOptions>
