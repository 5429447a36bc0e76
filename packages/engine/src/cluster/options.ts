/**
 * The `cluster:` options, used when the engine has a Redis: the socket other engines relay
 * calls through, and how often the engine's entry in the Redis registry is renewed.
 */
import { z } from 'zod'

export const clusterOptions = z
  .object({
    /** Where the peer socket listens; the engine's `host` when absent. */
    host: z.string().optional(),
    /** The peer socket's port; 0 (the default) picks a free one, which is advertised in Redis. */
    port: z.number().int().min(0).max(65535).default(0),
    /** The host other engines connect to; `host` when absent (the machine's name for 0.0.0.0). */
    advertise_host: z.string().optional(),
    /** How often the engine renews its registry entry and reads the others'. */
    heartbeat_ms: z.number().int().min(100).default(1000),
    /** How long an entry lives without renewal: a killed engine leaves the cluster after this. */
    ttl_ms: z.number().int().min(300).default(3000),
    /**
     * What other engines must present on the peer socket; `III_CLUSTER_SECRET` when absent,
     * else one random secret the first engine stores in Redis.
     */
    secret: z.string().min(16, 'cluster.secret must be at least 16 characters').optional(),
  })
  .strict()
  .refine((o) => o.ttl_ms >= 2 * o.heartbeat_ms, { message: 'ttl_ms must be at least twice heartbeat_ms' })

export type ClusterOptions = z.infer<typeof clusterOptions>
