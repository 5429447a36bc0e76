/** The `streams` module's options (`modules.streams` in the config): its adapter and its socket. */
import { z } from 'zod'
import { storeOptions } from '../store/options.js'

export const streamsOptions = storeOptions
  .extend({
    /** The stream socket's address; the engine's `host` when absent. */
    host: z.string().optional(),
    port: z.number().int().min(0).max(65535).default(3112),
    /** A function that decides on each connection (see docs/state-and-streams.md). */
    auth_function: z.string().optional(),
    /** Messages queued for one client before it is dropped. */
    max_queue: z.number().int().positive().default(1000),
    /** A client whose queue made no progress for this long is dropped. */
    slow_client_ms: z.number().int().positive().default(5000),
  })
  .strict()

export type StreamsOptions = z.infer<typeof streamsOptions>
