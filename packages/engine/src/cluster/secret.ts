/**
 * The shared secret of the cluster's peer socket. Another engine's connection must carry it
 * (`Authorization: Bearer <secret>` at the upgrade), so the socket that runs relayed calls on
 * this engine's workers is as closed as the bridge. The secret is `cluster.secret` (or
 * `III_CLUSTER_SECRET`) when configured; otherwise the first engine on the Redis creates a
 * random one there (`SET NX`) and every engine reads it: whoever can read that Redis is
 * trusted by the cluster already.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { SharedRedis } from '../redis/shared.js'

const digest = (s: string) => createHash('sha256').update(s).digest()

export class ClusterSecret {
  private value: string | null
  private reading: Promise<string | null> | null = null

  constructor(
    private readonly shared: SharedRedis,
    configured: string | undefined,
  ) {
    this.value = configured ?? null
  }

  /** The secret, or null while Redis cannot be read (every peer upgrade is refused then). */
  get(): Promise<string | null> {
    if (this.value !== null) return Promise.resolve(this.value)
    this.reading ??= this.read().finally(() => {
      this.reading = null
    })
    return this.reading
  }

  /** True when the upgrade carries the secret (compared in constant time). */
  async admits(req: IncomingMessage): Promise<boolean> {
    const secret = await this.get()
    const header = req.headers.authorization
    if (secret === null || typeof header !== 'string' || !header.startsWith('Bearer ')) return false
    return timingSafeEqual(digest(header.slice(7)), digest(secret))
  }

  private async read(): Promise<string | null> {
    const key = `${this.shared.prefix}cluster:secret`
    try {
      const client = this.shared.client
      await client.set(key, randomBytes(32).toString('base64url'), 'NX')
      const stored = await client.get(key)
      if (stored) this.value = stored
    } catch {
      // Redis is down: refused until it is back (the engine warned about Redis already)
    }
    return this.value
  }
}
