/** The `streams` module's options (`modules.streams` in the config): its adapter and its socket. */
import * as z from 'zod/mini'
import { port, positive } from '../../schema.js'
import { type StoreOptions, storeOptions } from '../store/options.js'

export const streamsOptions = z.strictObject({
  ...storeOptions.shape,
  /** The stream socket's address; the engine's `host` when absent. */
  host: z.optional(z.string()),
  port: z._default(port(), 3112),
  /** A function that decides on each connection (see docs/state-and-streams.md). */
  auth_function: z.optional(z.string()),
  /** Messages queued for one client before it is dropped. */
  max_queue: z._default(positive(), 1000),
  /** A client whose queue made no progress for this long is dropped. */
  slow_client_ms: z._default(positive(), 5000),
})

/** Resolved: the adapter is chosen (see `resolveStore`). */
export type StreamsOptions = Omit<z.infer<typeof streamsOptions>, 'adapter' | 'redis'> & StoreOptions
