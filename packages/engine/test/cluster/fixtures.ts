/** Three (or n) real engine processes on one real redis-server, for the cluster tests. */
import { type Cleanup, type EngineProcess, type RedisServer, startEngine, startRedis } from '@iii-dev/testkit'

export interface Cluster {
  redis: RedisServer
  engines: EngineProcess[]
}

/** Starts redis-server (AOF on with `aof`) and `n` engines joined to it with `--redis`. */
export async function startCluster(
  t: Cleanup,
  n = 3,
  opts: { aof?: boolean; config?: string; env?: Record<string, string> } = {},
): Promise<Cluster> {
  const redis = await startRedis(t, { aof: opts.aof })
  const engines = await Promise.all(
    Array.from({ length: n }, () =>
      startEngine(t, { args: ['--redis', redis.url], config: opts.config, env: opts.env }),
    ),
  )
  return { redis, engines }
}
