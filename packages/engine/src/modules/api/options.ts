/** The `api` module's options (`modules.api` in the config): the HTTP server's address and limits. */
import { z } from 'zod'

const positive = z.number().int().positive()

const corsOptions = z
  .object({
    origins: z.array(z.string().min(1)).default([]),
    credentials: z.boolean().default(false),
  })
  .strict()
  .refine((c) => !(c.credentials && c.origins.includes('*')), {
    message: 'cors.origins may not contain "*" when cors.credentials is true',
  })

export const apiOptions = z
  .object({
    /** The HTTP server's address; the engine's `host` when absent. */
    host: z.string().optional(),
    port: z.number().int().min(0).max(65535).default(3111),
    body_limit: positive.default(1024 * 1024),
    timeout_ms: positive.default(30_000),
    /** The whole request, body included, must arrive within this; else 408 `request_timeout`. */
    request_timeout_ms: positive.default(30_000),
    max_json_depth: positive.default(128),
    /** Requests handled at once; past it a 503 `too_many_requests` with `retry-after`. */
    max_concurrent_requests: positive.default(1024),
    cors: corsOptions.default({ origins: [], credentials: false }),
  })
  .strict()

export type ApiOptions = z.infer<typeof apiOptions>
