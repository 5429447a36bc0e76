/**
 * The cluster registry in Redis. Each engine keeps one entry, `P cluster:engine:<id>`, a JSON
 * {@link EngineSnapshot} of what its own workers registered, written with a time to live
 * (`ttl_ms`) and renewed every `heartbeat_ms`; the ids of the engines are in the set
 * `P cluster:engines`. An engine that is killed stops renewing and its entry expires, so it
 * leaves every other engine's view within `ttl_ms + heartbeat_ms`.
 *
 * Each engine reads every entry once per heartbeat, and at once when another engine announces
 * a change on the `cluster:changed` channel; `onPeers` gets the other engines' snapshots
 * each time one of them changed, appeared or left.
 */
import type { JsonObject } from '../protocol.js'
import type { SharedRedis } from '../redis/shared.js'

/** What one engine publishes about itself. */
export interface EngineSnapshot {
  engine_id: string
  /** Bumped at each change, so readers skip what they already applied. */
  version: number
  started_at_ms: number
  /** Where the engine's peer socket is (`ws://host:port`). */
  peer_url: string
  functions: Array<{ function_path: string; description?: string; metadata?: JsonObject; workers: number }>
  workers: Array<Record<string, unknown>>
  triggers: Array<{ id: string; trigger_type: string; function_path: string; config: JsonObject }>
  conditions: Array<{ function_path: string; condition_function_path: string }>
}

export type SnapshotBody = Omit<EngineSnapshot, 'engine_id' | 'version' | 'started_at_ms' | 'peer_url'>

export interface RegistryOptions {
  heartbeatMs: number
  ttlMs: number
  peerUrl: string
  /** This engine's current registrations. */
  build(): SnapshotBody
  /** The other engines, after any change among them. */
  onPeers(peers: Map<string, EngineSnapshot>): void
  warn(message: string): void
}

const CHANGED = 'cluster:changed'

export class Registry {
  private readonly startedAt = Date.now()
  private version = 0
  private lastBody = ''
  private entry = ''
  private peers = new Map<string, EngineSnapshot>()
  private timer: NodeJS.Timeout | undefined
  private dirty: NodeJS.Timeout | undefined
  private reading = false
  private readAgain = false
  private stopped = false
  private lastWarn = 0

  constructor(
    private readonly shared: SharedRedis,
    private readonly o: RegistryOptions,
  ) {}

  private get setKey(): string {
    return `${this.shared.prefix}cluster:engines`
  }

  private entryKey(id: string): string {
    return `${this.shared.prefix}cluster:engine:${id}`
  }

  async start(): Promise<void> {
    this.shared.subscribe(CHANGED, () => void this.read())
    await this.beat()
    this.timer = setInterval(() => void this.beat(), this.o.heartbeatMs)
    this.timer.unref()
  }

  /** Something this engine's workers registered changed: publish it soon (coalesced). */
  changed(): void {
    if (this.dirty !== undefined || this.stopped) return
    this.dirty = setTimeout(() => {
      this.dirty = undefined
      void this.write(true)
    }, 20)
  }

  /** The other engines as last read. */
  get others(): ReadonlyMap<string, EngineSnapshot> {
    return this.peers
  }

  private async beat(): Promise<void> {
    await this.write(false)
    await this.read()
  }

  /** Writes this engine's entry (with a fresh TTL); announces it when it changed. */
  private async write(announce: boolean): Promise<void> {
    if (this.stopped) return
    const body = JSON.stringify(this.o.build())
    const changed = body !== this.lastBody
    if (changed) {
      this.lastBody = body
      this.version++
      const head = JSON.stringify({
        engine_id: this.shared.engineId,
        version: this.version,
        started_at_ms: this.startedAt,
        peer_url: this.o.peerUrl,
      })
      this.entry = `${head.slice(0, -1)},${body.slice(1)}`
    }
    try {
      await this.shared.client
        .multi()
        .set(this.entryKey(this.shared.engineId), this.entry, 'PX', this.o.ttlMs)
        .sadd(this.setKey, this.shared.engineId)
        .exec()
      if (changed || announce) this.shared.publish(CHANGED, String(this.version))
    } catch (err) {
      this.warnOnce(`cluster: cannot renew this engine's registry entry: ${(err as Error).message}`)
      // Written again at the next heartbeat.
      if (changed) this.lastBody = ''
    }
  }

  /** Reads every entry; drops engines whose entry expired. */
  private async read(): Promise<void> {
    if (this.stopped) return
    if (this.reading) {
      this.readAgain = true
      return
    }
    this.reading = true
    try {
      const client = this.shared.client
      const ids = (await client.smembers(this.setKey)).filter((id) => id !== this.shared.engineId)
      const texts = ids.length > 0 ? await client.mget(ids.map((id) => this.entryKey(id))) : []
      const next = new Map<string, EngineSnapshot>()
      const gone: string[] = []
      ids.forEach((id, i) => {
        const text = texts[i]
        if (text === null) gone.push(id)
        else next.set(id, JSON.parse(text) as EngineSnapshot)
      })
      if (gone.length > 0) await client.srem(this.setKey, ...gone)
      if (this.stopped) return
      const differs =
        next.size !== this.peers.size || [...next].some(([id, s]) => this.peers.get(id)?.version !== s.version)
      this.peers = next
      if (differs) this.o.onPeers(next)
    } catch (err) {
      this.warnOnce(`cluster: cannot read the registry: ${(err as Error).message}`)
    } finally {
      this.reading = false
    }
    if (this.readAgain) {
      this.readAgain = false
      await this.read()
    }
  }

  private warnOnce(message: string): void {
    const now = Date.now()
    if (now - this.lastWarn < 5000) return
    this.lastWarn = now
    this.o.warn(message)
  }

  /** Leaves the cluster at once (a clean stop), instead of waiting for the entry to expire. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    clearInterval(this.timer)
    clearTimeout(this.dirty)
    try {
      await this.shared.client
        .multi()
        .del(this.entryKey(this.shared.engineId))
        .srem(this.setKey, this.shared.engineId)
        .exec()
      this.shared.publish(CHANGED, 'left')
    } catch {
      // Redis is away: the entry expires on its own.
    }
  }
}
