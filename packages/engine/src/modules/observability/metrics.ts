/**
 * Prometheus metrics on `/metrics` (docs/observability.md, "Metrics"): off by default, on with
 * `--metrics-port N` or `metrics:` in the config. Only then is this module created and
 * `prom-client` loaded (a dynamic import; the bundled `iii` keeps it outside its file).
 *
 * Per call it is one invocation observer on the core's seam (`core/tracing.ts`): a counter and
 * a histogram per function, their children cached per path. Everything else (workers, calls in
 * flight, stream clients, the event backlog and dead letters) is a gauge computed when scraped.
 */
import { timingSafeEqual } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { Engine } from '../../core/engine.js'
import type { InvocationSpan, SpanStart, Tracing } from '../../core/tracing.js'
import { hostForUrl, listen } from '../../net/listen.js'
import type { EventModule } from '../event/module.js'
import type { EngineApi, EngineModule } from '../module.js'
import type { StreamsModule } from '../streams/module.js'

/** `metrics:` in the config. */
export interface MetricsOptions {
  port: number
  host: string
  /** Required off loopback: `Authorization: Bearer <token>`. */
  token?: string
}

/** The same read built-ins tracing leaves out: the console polls them. */
const UNCOUNTED = /^(engine|traces|logs|logger)\./
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])
/** Seconds; calls through a worker on one machine take a few hundred microseconds. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

interface Child {
  inc(): void
}
interface HistChild {
  observe(v: number): void
}
interface PerFunction {
  ok: Child
  errors: Map<string, Child>
  seconds: HistChild
}

function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

export class MetricsModule implements EngineModule {
  readonly name = 'metrics'
  private server: Server | null = null
  private url = ''

  constructor(
    private readonly engine: Engine,
    private readonly options: MetricsOptions,
    private readonly modules: EngineModule[],
  ) {}

  async start(api: EngineApi): Promise<void> {
    const { host, token } = this.options
    if (!LOOPBACK.has(host) && token === undefined) {
      throw new Error(`metrics: refusing to listen on ${host} without a token (set metrics.token or bind to loopback)`)
    }
    const prom = await import('prom-client')
    const registry = new prom.Registry()
    prom.collectDefaultMetrics({ register: registry })
    const engine = this.engine
    const events = this.modules.find((m) => m.name === 'event') as EventModule | undefined
    const streams = this.modules.find((m) => m.name === 'streams') as StreamsModule | undefined

    const invocations = new prom.Counter({
      name: 'iii_invocations_total',
      help: 'Invocations that finished, per function and status (ok, or the error code)',
      labelNames: ['function', 'status'],
      registers: [registry],
    })
    const duration = new prom.Histogram({
      name: 'iii_invocation_duration_seconds',
      help: 'How long invocations took, per function, in seconds',
      labelNames: ['function'],
      buckets: BUCKETS,
      registers: [registry],
    })
    new prom.Gauge({
      name: 'iii_workers_connected',
      help: 'Workers connected to this engine, per runtime',
      labelNames: ['runtime'],
      registers: [registry],
      collect() {
        this.reset()
        const counts = new Map<string, number>()
        for (const w of engine.workers.values()) {
          if (w.link.remote !== undefined) continue
          const runtime = w.info.runtime ?? 'unknown'
          counts.set(runtime, (counts.get(runtime) ?? 0) + 1)
        }
        for (const [runtime, n] of counts) this.set({ runtime }, n)
      },
    })
    new prom.Gauge({
      name: 'iii_worker_in_flight',
      help: 'Calls running on each connected worker',
      labelNames: ['worker_id', 'worker_name'],
      registers: [registry],
      collect() {
        this.reset()
        for (const w of engine.workers.values()) {
          if (w.link.remote !== undefined) continue
          this.set({ worker_id: w.id, worker_name: w.info.name ?? '' }, w.running.size)
        }
      },
    })
    new prom.Gauge({
      name: 'iii_stream_clients',
      help: 'Clients connected to the stream socket',
      registers: [registry],
      collect() {
        this.set(streams?.clientCount() ?? 0)
      },
    })
    const perSubscription = (name: string, help: string) =>
      new prom.Gauge({ name, help, labelNames: ['topic', 'function'], registers: [registry] })
    const backlog = perSubscription('iii_event_backlog', 'Durable event deliveries waiting (due or delayed)')
    const inFlight = perSubscription('iii_event_in_flight', 'Durable event deliveries being handled')
    const dead = perSubscription('iii_event_dead_letters', 'Durable event deliveries in the dead letters')
    // One read of the queue per scrape fills the three gauges.
    new prom.Gauge({
      name: 'iii_event_subscriptions',
      help: 'Durable event subscriptions the queue knows',
      registers: [registry],
      async collect() {
        backlog.reset()
        inFlight.reset()
        dead.reset()
        const rows = (await events?.stats()) ?? []
        for (const r of rows) {
          const labels = { topic: r.topic, function: r.function_path }
          backlog.set(labels, r.pending + r.delayed)
          inFlight.set(labels, r.in_flight)
          dead.set(labels, r.dead)
        }
        this.set(rows.length)
      },
    })

    const perPath = new Map<string, PerFunction>()
    const of = (path: string): PerFunction => {
      let f = perPath.get(path)
      if (f === undefined) {
        f = { ok: invocations.labels(path, 'ok'), errors: new Map(), seconds: duration.labels(path) }
        perPath.set(path, f)
      }
      return f
    }
    const observer: Tracing = {
      start(path: string, call: SpanStart): InvocationSpan | null {
        if (call.builtin && UNCOUNTED.test(path)) return null
        const t0 = performance.now()
        let ended = false
        return {
          traceparent: undefined,
          setWorker() {},
          end(error) {
            if (ended) return
            ended = true
            const code = error === undefined ? undefined : (error.code ?? 'internal_error')
            // A name nobody registered is one label, so unknown paths cannot grow the series.
            const name = code === 'function_not_found' && !engine.hasFunction(path) ? '(unknown)' : path
            const f = of(name)
            f.seconds.observe((performance.now() - t0) / 1000)
            if (code === undefined) f.ok.inc()
            else {
              let c = f.errors.get(code)
              if (c === undefined) {
                c = invocations.labels(name, code)
                f.errors.set(code, c)
              }
              c.inc()
            }
          },
        }
      },
    }

    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]
      const reply = (status: number, code: string, message: string) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { code, message } }))
      }
      if (token !== undefined) {
        const auth = req.headers.authorization
        if (!sameToken(auth?.startsWith('Bearer ') ? auth.slice(7) : undefined, token)) {
          return reply(401, 'unauthorized', 'a valid metrics token is required (Authorization: Bearer)')
        }
      }
      if (path !== '/metrics') return reply(404, 'not_found', `no route ${path}; metrics are at /metrics`)
      if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method_not_allowed', 'use GET /metrics')
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' })
          res.end(req.method === 'HEAD' ? undefined : text)
        },
        (err) => reply(500, 'internal_error', `metrics failed: ${(err as Error).message}`),
      )
    })
    const addr = await listen(server, this.options.port, host, 'metrics')
    this.server = server
    this.url = `http://${hostForUrl(host)}:${addr.port}/metrics`
    // Registered once listening, so a failed start leaves the hot path as it was.
    api.useTracing(observer)
  }

  addresses(): Record<string, string> {
    return this.server === null ? {} : { metrics: this.url }
  }

  async stop(): Promise<void> {
    const s = this.server
    this.server = null
    if (s === null) return
    const closed = new Promise<void>((resolve) => s.close(() => resolve()))
    s.closeAllConnections()
    await closed
  }
}
