/**
 * The `cluster:` options, used when the engine has a Redis: the socket other engines relay
 * calls through, and how often the engine's entry in the Redis registry is renewed.
 */
import * as z from 'zod/mini'
import { int, port, str } from '../schema.js'

export const clusterOptions = z
  .strictObject({
    /** Where the peer socket listens; the engine's `host` when absent. */
    host: z.optional(z.string()),
    /** The peer socket's port; 0 (the default) picks a free one, which is advertised in Redis. */
    port: z._default(port(), 0),
    /** The host other engines connect to; `host` when absent (the machine's name for 0.0.0.0). */
    advertise_host: z.optional(z.string()),
    /** How often the engine renews its registry entry and reads the others'. */
    heartbeat_ms: z._default(int(z.gte(100)), 1000),
    /** How long an entry lives without renewal: a killed engine leaves the cluster after this. */
    ttl_ms: z._default(int(z.gte(300)), 3000),
    /**
     * What other engines must present on the peer socket; `III_CLUSTER_SECRET` when absent,
     * else one random secret the first engine stores in Redis.
     */
    secret: z.optional(str(z.minLength(16, 'cluster.secret must be at least 16 characters'))),
  })
  .check(z.refine((o) => o.ttl_ms >= 2 * o.heartbeat_ms, { message: 'ttl_ms must be at least twice heartbeat_ms' }))

export type ClusterOptions = z.infer<typeof clusterOptions>
