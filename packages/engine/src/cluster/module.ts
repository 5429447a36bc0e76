/**
 * One function space across the engines on one Redis. The cluster module:
 * - publishes what this engine's workers registered in the Redis {@link Registry} and reads
 *   what the other engines' workers registered;
 * - keeps a {@link PeerLink} to every other engine, which the core sees as one more worker of
 *   each function that engine serves, so `invoke`, HTTP routes and events reach a function
 *   whichever engine its worker is connected to;
 * - mirrors the other engines' `api`, `event`, `streams:join` and `streams:leave` triggers (the
 *   engine that receives the request, the emit or the socket client fires them) and their
 *   conditions into this engine's core, owned by the peer's link so they go away with it;
 * - serves the calls other engines relay here on its own peer socket;
 * - gives the core the cluster-wide worker and trigger lists.
 *
 * State and stream triggers are not mirrored: each fires on the engine where it was
 * registered, for changes made anywhere (the state and streams modules fan changes out).
 * Cron triggers are not mirrored either: every engine runs the cron jobs its workers
 * registered and a claim per tick in Redis makes each tick fire once (see the cron module).
 */
import { hostname } from 'node:os'
import type { Engine } from '../core/engine.js'
import type { ClusterLists } from '../core/link.js'
import type { EngineModule } from '../modules/module.js'
import { WsEndpoint } from '../net/ws-endpoint.js'
import type { SharedRedis } from '../redis/shared.js'
import type { ClusterOptions } from './options.js'
import { PeerLink, servePeerFrame } from './peer-link.js'
import { type EngineSnapshot, Registry, type SnapshotBody } from './registry.js'
import { ClusterSecret } from './secret.js'

/**
 * Trigger types fired by the engine where the request, the emit or the stream socket client
 * arrives: an HTTP route, an event subscription or a join check registered on one engine
 * applies on every engine.
 */
const MIRRORED = new Set(['api', 'event', 'streams:join', 'streams:leave'])

/** What this engine applied of one other engine's snapshot. */
interface Peer {
  snapshot: EngineSnapshot
  link: PeerLink | null
  functions: Set<string>
  triggers: Set<string>
  conditions: Set<string>
  counts: Map<string, number>
  retry: NodeJS.Timeout | undefined
}

export class ClusterModule implements EngineModule, ClusterLists {
  readonly name = 'cluster'
  private endpoint: WsEndpoint | null = null
  private registry: Registry | null = null
  private readonly peers = new Map<string, Peer>()
  private stopped = false
  private readonly secret: ClusterSecret

  constructor(
    private readonly engine: Engine,
    private readonly shared: SharedRedis,
    private readonly options: ClusterOptions,
    /** False when durable events are on Redis: every engine then delivers from one queue. */
    private readonly mirrorEvents = true,
  ) {
    this.secret = new ClusterSecret(shared, options.secret)
  }

  async start(): Promise<void> {
    const engine = this.engine
    const host = this.options.host ?? engine.options.host
    this.endpoint = new WsEndpoint({
      name: 'cluster',
      host,
      port: this.options.port,
      maxPayload: engine.options.bridge.maxPayload,
      heartbeatMs: this.options.heartbeat_ms,
      maxBadFrames: engine.options.bridge.maxBadFrames,
      upgradeMessage: 'the iii cluster socket is for other iii engines',
      admit: async (req) => ((await this.secret.admits(req)) ? { context: null } : undefined),
      connected: (peer) => ({
        message: (data) => {
          const ok = servePeerFrame(engine, data.toString(), (text) => {
            if (peer.ws.readyState === peer.ws.OPEN) peer.ws.send(text)
          })
          if (!ok) peer.badFrame()
        },
        close: () => {},
      }),
    })
    const url = new URL(await this.endpoint.start())
    const wildcard = host === '0.0.0.0' || host === '::'
    const advertised = this.options.advertise_host ?? (wildcard ? hostname() : undefined)
    if (advertised !== undefined) url.hostname = advertised
    this.registry = new Registry(this.shared, {
      heartbeatMs: this.options.heartbeat_ms,
      ttlMs: this.options.ttl_ms,
      peerUrl: url.toString().replace(/\/$/, ''),
      build: () => this.snapshot(),
      onPeers: (peers) => this.sync(peers),
      warn: (m) => engine.log.warn(m),
    })
    engine.cluster = this
    engine.onFunctionsChanged(() => this.registry?.changed())
    await this.registry.start()
    engine.log.info(`cluster: joined as engine ${this.shared.engineId}`)
  }

  addresses(): Record<string, string> {
    return this.endpoint ? { cluster: this.endpoint.url() } : {}
  }

  /** What this engine's own workers registered (links to other engines left out). */
  private snapshot(): SnapshotBody {
    const engine = this.engine
    const counts = new Map<string, number>()
    const local = new Set<string>()
    for (const w of engine.workers.values()) {
      if (w.link.remote) continue
      local.add(w.id)
      for (const p of w.functions) counts.set(p, (counts.get(p) ?? 0) + 1)
    }
    const functions = []
    for (const f of engine.functionsList()) {
      const n = counts.get(f.function_path)
      if (n !== undefined) functions.push({ ...f, workers: n })
    }
    const engineId = this.shared.engineId
    return {
      functions,
      // Without active_invocations, which changes with every call: an entry changes only when
      // registrations do (the count is on the worker's own engine).
      workers: engine.localWorkersList().map(({ active_invocations: _, ...w }) => ({ ...w, engine_id: engineId })),
      triggers: engine.triggers.list().filter((t) => local.has(engine.triggers.owner(t.id) ?? '')),
      conditions: engine
        .conditionsList()
        .filter((c) => c.owner !== null && local.has(c.owner))
        .map(({ function_path, condition_function_path }) => ({ function_path, condition_function_path })),
    }
  }

  /** Brings the core in line with the other engines' snapshots. */
  private sync(snapshots: Map<string, EngineSnapshot>): void {
    if (this.stopped) return
    for (const [id, peer] of this.peers) {
      if (!snapshots.has(id)) this.drop(id, peer)
    }
    for (const [id, snapshot] of snapshots) {
      let peer = this.peers.get(id)
      if (peer === undefined) {
        peer = {
          snapshot,
          link: null,
          functions: new Set(),
          triggers: new Set(),
          conditions: new Set(),
          counts: new Map(),
          retry: undefined,
        }
        this.peers.set(id, peer)
        this.connect(id, peer)
      } else {
        peer.snapshot = snapshot
        this.apply(peer)
      }
    }
  }

  private connect(id: string, peer: Peer): void {
    void this.secret.get().then((secret) => {
      if (this.stopped || this.peers.get(id) !== peer || peer.link !== null) return
      if (secret === null) {
        peer.retry = setTimeout(() => this.connect(id, peer), 250)
        return
      }
      this.link(id, peer, secret)
    })
  }

  private link(id: string, peer: Peer, secret: string): void {
    peer.link = new PeerLink(
      this.engine,
      id,
      peer.snapshot.peer_url,
      { workersOf: (path) => peer.counts.get(path) ?? 0 },
      {
        open: (link) => {
          if (this.peers.get(id) !== peer || peer.link !== link) return link.close()
          link.record = this.engine.addWorker(link)
          this.apply(peer)
        },
        closed: (link) => {
          if (link.record !== null) this.engine.removeWorker(link.record)
          link.record = null
          if (peer.link !== link) return
          peer.link = null
          peer.functions.clear()
          peer.triggers.clear()
          peer.conditions.clear()
          // Still listed in Redis: try again soon (it may be restarting its socket or be gone).
          if (!this.stopped && this.peers.get(id) === peer) {
            peer.retry = setTimeout(() => {
              if (!this.stopped && this.peers.get(id) === peer) this.connect(id, peer)
            }, 250)
          }
        },
      },
      secret,
    )
  }

  /** Applies the difference between what the core has of a peer and its latest snapshot. */
  private apply(peer: Peer): void {
    const engine = this.engine
    const record = peer.link?.record
    const s = peer.snapshot
    peer.counts = new Map(s.functions.map((f) => [f.function_path, f.workers]))
    if (!record) return
    const fns = new Set(s.functions.map((f) => f.function_path))
    for (const path of peer.functions) if (!fns.has(path)) engine.removeWorkerFunction(record, path)
    for (const f of s.functions) {
      // Only new ones: adding one tells functions_available watchers the list changed.
      if (peer.functions.has(f.function_path)) continue
      try {
        engine.addWorkerFunction(record, f.function_path, { description: f.description, metadata: f.metadata })
      } catch (err) {
        // A built-in here (the engines run different modules): this engine keeps its own.
        engine.log.debug(`cluster: ${f.function_path} of engine ${s.engine_id} not shared: ${(err as Error).message}`)
      }
    }
    peer.functions = fns

    const triggers = new Map(
      s.triggers
        .filter((t) => MIRRORED.has(t.trigger_type) && (this.mirrorEvents || t.trigger_type !== 'event'))
        .map((t) => [`${s.engine_id}:${t.id}`, t]),
    )
    for (const id of peer.triggers) if (!triggers.has(id)) void engine.triggers.unregister(id)
    for (const [id, t] of triggers) {
      if (peer.triggers.has(id)) continue
      engine.triggers
        .register({
          id,
          trigger_type: t.trigger_type,
          function_path: t.function_path,
          config: t.config,
          owner: record.id,
        })
        .catch((err) =>
          engine.log.debug(`cluster: trigger ${t.id} of engine ${s.engine_id} not mirrored: ${err.message}`),
        )
    }
    peer.triggers = new Set(triggers.keys())

    const conditions = new Set(s.conditions.map((c) => `${c.function_path}\n${c.condition_function_path}`))
    for (const c of peer.conditions) {
      if (conditions.has(c)) continue
      const [path, cond] = c.split('\n')
      engine.removeCondition(path, cond, record.id)
    }
    for (const c of conditions) {
      const [path, cond] = c.split('\n')
      engine.addCondition(path, cond, record.id)
    }
    peer.conditions = conditions
  }

  private drop(id: string, peer: Peer): void {
    this.peers.delete(id)
    clearTimeout(peer.retry)
    const link = peer.link
    peer.link = null
    if (link?.record) {
      this.engine.removeWorker(link.record)
      link.record = null
    }
    link?.close()
  }

  // ---- ClusterLists ----------------------------------------------------------------------

  workers(): Array<Record<string, unknown>> {
    return [...this.peers.values()].flatMap((p) => p.snapshot.workers)
  }

  triggers(): EngineSnapshot['triggers'] {
    return [...this.peers.values()].flatMap((p) => p.snapshot.triggers)
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await this.registry?.stop()
    for (const [id, peer] of [...this.peers]) this.drop(id, peer)
    this.engine.cluster = null
    await this.endpoint?.stop('engine shutting down')
    this.endpoint = null
  }
}
