/**
 * The engine core: functions, triggers, trigger types, conditions and calls. It knows a worker
 * as a {@link WorkerRecord} it owns plus the {@link WorkerLink} the bridge hands it, and never
 * encodes a frame; modules reach it through {@link EngineApi}.
 */
import { mkdirSync } from 'node:fs'
import type { EngineOptions } from '../config.js'
import { ErrorCode, IIIError, type WireError } from '../errors.js'
import { createLogger, type Logger } from '../log.js'
import type {
  CallContext,
  EngineApi,
  EngineModule,
  FunctionInfo,
  InternalHandler,
  InvokeOptions,
  TriggerRecord,
  TriggerTypeHandler,
} from '../modules/module.js'
import { type JsonObject, RawJson, type TriggerMeta } from '../protocol.js'
import type { ClusterLists, WorkerLink } from './link.js'
import { deny, type Policy } from './policy.js'
import { bothObservers, type InvocationSpan, type Tracing } from './tracing.js'
import { TriggerRegistry } from './triggers.js'
import { type WorkerInfo, WorkerRecord } from './worker.js'

interface FunctionEntry {
  path: string
  info: FunctionInfo
  internal?: InternalHandler
  workers: WorkerRecord[]
  /** Round-robin cursor over `workers`. */
  next: number
}

interface ConditionEntry {
  path: string
  owner: string | null
}

interface PendingCall {
  worker: WorkerRecord
  path: string
  data: unknown
  opts: InvokeOptions
  /** The call's number on its link (0: the link does not count, never retried). */
  seq: number
  resolve: (value: unknown) => void
  reject: (err: IIIError) => void
  timer: NodeJS.Timeout
  /** When the call times out (`performance.now()` clock); a retry keeps it. */
  deadline: number
}

const MAX_TIMER_MS = 2 ** 31 - 1

export class Engine implements EngineApi {
  readonly log: Logger
  private readonly functions = new Map<string, FunctionEntry>()
  private readonly conditions = new Map<string, ConditionEntry[]>()
  private readonly pending = new Map<string, PendingCall>()
  readonly workers = new Map<string, WorkerRecord>()
  private readonly functionListeners: Array<() => void> = []
  private functionsChangedTimer: NodeJS.Timeout | undefined
  private nextInvocation = 1
  private nextWorker = 1
  private started: EngineModule[] = []
  private modules: EngineModule[] = []

  /** Trigger types and triggers. */
  readonly triggers: TriggerRegistry
  /** Set by the cluster module: the other engines' workers and triggers, for the lists. */
  cluster: ClusterLists | null = null
  /** The invocation observer (tracing, metrics or both); null costs one check per call. */
  private tracing: Tracing | null = null

  constructor(
    readonly options: EngineOptions,
    log?: Logger,
  ) {
    this.log = log ?? createLogger(options.logLevel, undefined, options.logFormat)
    this.triggers = new TriggerRegistry(this.workers, this.log, this)
  }

  /** Adds modules to start, in order. */
  use(...modules: EngineModule[]): this {
    this.modules.push(...modules)
    return this
  }

  /** Starts every module in order; on failure stops the ones already started and rethrows. */
  async start(): Promise<void> {
    for (const warning of this.options.configWarnings ?? []) this.log.warn(warning)
    mkdirSync(this.options.dataDir, { recursive: true })
    for (const module of this.modules) {
      try {
        await module.start(this)
      } catch (err) {
        await this.stop()
        throw err
      }
      this.started.push(module)
    }
  }

  /**
   * Graceful shutdown (SIGTERM): every module stops taking new work (no new HTTP or bridge
   * connections, no cron ticks, no new event claims); calls and deliveries in flight get up
   * to `graceMs` to finish; the calls still waiting then fail with `invocation_stopped`
   * before the modules stop (stores flushed and closed, sockets closed with 1001). Returns
   * how many calls were cut short.
   */
  async shutdown(graceMs: number = this.options.shutdownGraceMs ?? 10_000): Promise<number> {
    const started = [...this.started].reverse()
    const drained = Promise.all(
      started.map(async (m) => {
        try {
          await m.drain?.()
        } catch (err) {
          this.log.error(`module ${m.name} failed to drain`, { error: String(err) })
        }
      }),
    )
    const deadline = Date.now() + graceMs
    let done = false
    void drained.then(() => {
      done = true
    })
    while (Date.now() < deadline && (!done || this.pending.size > 0)) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(20, Math.max(1, deadline - Date.now()))))
    }
    const cut = this.pending.size
    if (cut > 0) this.log.warn(`shutdown: ${cut} calls still running after ${graceMs} ms fail with invocation_stopped`)
    this.failPending()
    await this.stop()
    return cut
  }

  private failPending(): void {
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer)
      this.pending.delete(id)
      call.reject(new IIIError(ErrorCode.InvocationStopped, 'the engine is shutting down'))
    }
  }

  /** Stops modules in reverse order and fails every call still waiting. Safe to call twice. */
  async stop(): Promise<void> {
    const modules = this.started.reverse()
    this.started = []
    for (const module of modules) {
      try {
        await module.stop()
      } catch (err) {
        this.log.error(`module ${module.name} failed to stop`, { error: String(err) })
      }
    }
    this.failPending()
    clearTimeout(this.functionsChangedTimer)
  }

  addresses(): Record<string, string> {
    const all: Record<string, string> = {}
    for (const m of this.started) Object.assign(all, m.addresses?.())
    return all
  }

  // ---- functions -------------------------------------------------------------------------

  registerFunction(path: string, handler: InternalHandler, info: FunctionInfo = {}): void {
    if (this.functions.has(path)) throw new Error(`built-in function ${path} is registered twice`)
    this.functions.set(path, { path, info, internal: handler, workers: [], next: 0 })
    this.functionsChanged()
  }

  addWorkerFunction(worker: WorkerRecord, path: string, info: FunctionInfo): void {
    let entry = this.functions.get(path)
    if (entry?.internal) {
      throw new IIIError(ErrorCode.InvalidMessage, `${path} is a built-in function and cannot be registered`)
    }
    if (worker.policy !== undefined && entry !== undefined) this.checkShared(worker, entry, 'register')
    if (entry === undefined) {
      entry = { path, info, workers: [], next: 0 }
      this.functions.set(path, entry)
      if (worker.policy !== undefined) this.dropForeignConditions(worker, path)
    } else if (info.description !== undefined || info.metadata !== undefined) {
      entry.info = info
    }
    if (!entry.workers.includes(worker)) entry.workers.push(worker)
    worker.functions.add(path)
    this.functionsChanged()
  }

  /**
   * With auth on, a path served by workers of another identity may be joined only if both
   * identities' policies allow sharing it: otherwise a newcomer would take a share of the
   * calls (round robin) of a function it does not own.
   */
  private checkShared(worker: WorkerRecord, entry: FunctionEntry, action: string): void {
    const policy = worker.policy
    if (policy === undefined) return
    for (const other of entry.workers) {
      const theirs = other.policy
      if (theirs === undefined || theirs.identity === policy.identity) continue
      if (policy.mayShare(entry.path) && theirs.mayShare(entry.path)) continue
      throw deny(
        this.log,
        policy,
        worker.id,
        action,
        entry.path,
        `${entry.path} is served by identity ${theirs.identity}, and their policies do not allow sharing it`,
      )
    }
  }

  /**
   * A condition placed on a path before anyone served it stays only if its owner's identity
   * could have joined the path's first server: the same identity, or both allowing sharing.
   */
  private dropForeignConditions(worker: WorkerRecord, path: string): void {
    const list = this.conditions.get(path)
    const policy = worker.policy
    if (list === undefined || policy === undefined) return
    const kept = list.filter((c) => {
      const theirs = c.owner === null ? undefined : this.workers.get(c.owner)?.policy
      if (theirs === undefined || theirs.identity === policy.identity) return true
      if (theirs.mayShare(path) && policy.mayShare(path)) return true
      const owner = this.workers.get(c.owner as string)
      const err = deny(
        this.log,
        theirs,
        c.owner as string,
        'registercondition',
        path,
        `${path} is now served by identity ${policy.identity}; condition ${c.path} was dropped`,
      )
      owner?.link.reportError(err.toWire(), path)
      return false
    })
    if (kept.length === 0) this.conditions.delete(path)
    else this.conditions.set(path, kept)
  }

  removeWorkerFunction(worker: WorkerRecord, path: string): void {
    const entry = this.functions.get(path)
    worker.functions.delete(path)
    if (entry === undefined || entry.internal) return
    entry.workers = entry.workers.filter((w) => w !== worker)
    if (entry.workers.length === 0) this.functions.delete(path)
    this.functionsChanged()
  }

  functionsList(): Array<{
    function_path: string
    description?: string
    request_format?: unknown
    response_format?: unknown
    metadata?: JsonObject
    workers: number
  }> {
    const list = []
    for (const e of this.functions.values()) {
      list.push({
        function_path: e.path,
        ...(e.info.description !== undefined && { description: e.info.description }),
        ...(e.info.request_format !== undefined && { request_format: e.info.request_format }),
        ...(e.info.response_format !== undefined && { response_format: e.info.response_format }),
        ...(e.info.metadata !== undefined && { metadata: e.info.metadata }),
        workers: e.workers.reduce((n, w) => n + (w.link.remote ? w.link.remote.workersOf(e.path) : 1), 0),
      })
    }
    return list
  }

  hasFunction(path: string): boolean {
    return this.functions.has(path)
  }

  onFunctionsChanged(listener: () => void): void {
    this.functionListeners.push(listener)
  }

  private functionsChanged(): void {
    if (this.functionsChangedTimer !== undefined || this.functionListeners.length === 0) return
    this.functionsChangedTimer = setTimeout(() => {
      this.functionsChangedTimer = undefined
      for (const l of this.functionListeners) l()
    }, 25)
  }

  // ---- calls -----------------------------------------------------------------------------

  /**
   * Calls a function wherever it lives. With `opts.trigger` its conditions run first, in
   * registration order, and the first `false` rejects with `condition_failed`.
   */
  invoke(path: string, data: unknown, opts: InvokeOptions = {}): Promise<unknown> {
    if (this.tracing === null) return this.run(path, data, opts)
    const span = this.tracing.start(path, {
      trigger: opts.trigger,
      traceparent: opts.traceparent,
      workerId: opts.workerId,
      builtin: this.functions.get(path)?.internal !== undefined,
    })
    return span === null ? this.run(path, data, opts) : this.runTraced(span, path, data, opts)
  }

  /**
   * Adds an invocation observer (`core/tracing.ts`): the tracer, the metrics. Every invocation
   * from now on is told to it; a second observer joins the first.
   */
  useTracing(observer: Tracing): void {
    this.tracing = this.tracing === null ? observer : bothObservers(this.tracing, observer)
  }

  private async runTraced(span: InvocationSpan, path: string, data: unknown, opts: InvokeOptions): Promise<unknown> {
    try {
      const result = await this.run(path, data, { ...opts, traceparent: span.traceparent ?? opts.traceparent, span })
      span.end()
      return result
    } catch (err) {
      span.end(err as IIIError)
      throw err
    }
  }

  private run(path: string, data: unknown, opts: InvokeOptions): Promise<unknown> {
    if (opts.trigger !== undefined && !opts.relayed && this.conditions.has(path)) {
      return this.invokeGuarded(path, data, opts)
    }
    // The common case takes no async frame of its own: one promise per call, the callee's.
    const result = this.call(path, data, opts)
    return opts.raw ? result : result.then(parseRaw)
  }

  private async invokeGuarded(path: string, data: unknown, opts: InvokeOptions): Promise<unknown> {
    const conditions = this.conditions.get(path)
    if (conditions !== undefined && this.functions.has(path)) {
      for (const c of conditions.slice()) {
        if (parseRaw(await this.call(c.path, data, opts)) === false) {
          throw new IIIError(ErrorCode.ConditionFailed, `condition ${c.path} returned false`)
        }
      }
    }
    const result = await this.call(path, data, opts)
    return opts.raw ? result : parseRaw(result)
  }

  private call(path: string, data: unknown, opts: InvokeOptions): Promise<unknown> {
    const entry = this.functions.get(path)
    if (entry === undefined) {
      return Promise.reject(new IIIError(ErrorCode.FunctionNotFound, `function ${path} is not registered`))
    }
    if (entry.internal !== undefined) return this.callInternal(entry.internal, data, opts)
    const i = entry.next < entry.workers.length ? entry.next : 0
    entry.next = i + 1
    let worker = entry.workers[i]
    if (worker.late) worker = this.answering(entry, worker)
    if (opts.relayed && worker.link.remote) return this.callRelayed(entry, path, data, opts)
    return this.callWorker(worker, path, data, opts)
  }

  /** The next of `entry`'s workers that answers its heartbeat; `late` itself when none does. */
  private answering(entry: FunctionEntry, late: WorkerRecord): WorkerRecord {
    for (let n = 1; n < entry.workers.length; n++) {
      const i = entry.next < entry.workers.length ? entry.next : 0
      entry.next = i + 1
      if (!entry.workers[i].late) return entry.workers[i]
    }
    return late
  }

  /** A relayed call goes to one of this engine's own workers, the next in turn. */
  private callRelayed(entry: FunctionEntry, path: string, data: unknown, opts: InvokeOptions): Promise<unknown> {
    for (let n = 0; n < entry.workers.length; n++) {
      const i = entry.next < entry.workers.length ? entry.next : 0
      entry.next = i + 1
      if (!entry.workers[i].link.remote) return this.callWorker(entry.workers[i], path, data, opts)
    }
    return Promise.reject(new IIIError(ErrorCode.FunctionNotFound, `function ${path} has no worker on this engine`))
  }

  /** A built-in runs here, in this turn: no invocation id, timer or pending entry (only worker calls need them). */
  private callInternal(handler: InternalHandler, data: unknown, opts: InvokeOptions): Promise<unknown> {
    const ctx: CallContext = {
      trigger: opts.trigger,
      traceparent: opts.traceparent,
      baggage: opts.baggage,
      workerId: opts.workerId,
    }
    try {
      return Promise.resolve(handler(data instanceof RawJson ? data.parse() : data, ctx))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  private callWorker(worker: WorkerRecord, path: string, data: unknown, opts: InvokeOptions): Promise<unknown> {
    const id = String(this.nextInvocation++)
    if (opts.span !== undefined) opts.span.setWorker(worker.id, worker.info.runtime)
    const timeoutMs = Math.min(opts.timeoutMs ?? this.options.bridge.invocationTimeoutMs, MAX_TIMER_MS)
    const now = performance.now()
    const deadline = opts.deadline ?? now + timeoutMs
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          if (this.pending.delete(id)) {
            worker.running.delete(id)
            reject(new IIIError(ErrorCode.InvocationTimeout, `function ${path} did not answer within ${timeoutMs} ms`))
          }
        },
        Math.max(0, deadline - now),
      )
      const call: PendingCall = { worker, path, data, opts, seq: 0, resolve, reject, timer, deadline }
      this.pending.set(id, call)
      worker.running.add(id)
      call.seq = worker.link.invoke(id, path, data, opts)
    })
  }

  /** Settles a call with a worker's `invocationresult`; results for unknown or foreign calls are dropped. */
  settle(worker: WorkerRecord, id: string, result: unknown, error: WireError | undefined): void {
    const call = this.pending.get(id)
    if (call === undefined || call.worker !== worker) return
    this.pending.delete(id)
    worker.running.delete(id)
    clearTimeout(call.timer)
    if (error !== undefined) call.reject(new IIIError(error.code, error.message, error.details))
    else call.resolve(result === undefined ? null : result)
  }

  // ---- trigger types and triggers (EngineApi) -------------------------------------------

  registerTriggerType(id: string, handler: TriggerTypeHandler, description?: string): void {
    this.triggers.registerBuiltinType(id, handler, description)
  }

  triggersOfType(type: string): Iterable<TriggerRecord> {
    return this.triggers.ofType(type)
  }

  // ---- conditions ------------------------------------------------------------------------

  addCondition(path: string, conditionPath: string, owner: string | null): void {
    const worker = owner === null ? undefined : this.workers.get(owner)
    if (worker?.policy !== undefined) {
      // A condition changes who gets through to a function: only for functions one may serve.
      const refusal = worker.policy.registerRefusal(path)
      if (refusal !== undefined) throw deny(this.log, worker.policy, worker.id, 'registercondition', path, refusal)
      const entry = this.functions.get(path)
      if (entry?.internal) {
        throw deny(this.log, worker.policy, worker.id, 'registercondition', path, `${path} is a built-in function`)
      }
      if (entry !== undefined) this.checkShared(worker, entry, 'registercondition')
    }
    let list = this.conditions.get(path)
    if (list === undefined) this.conditions.set(path, (list = []))
    if (!list.some((c) => c.path === conditionPath && c.owner === owner)) list.push({ path: conditionPath, owner })
  }

  /** Every condition: the function it guards, the condition function and who added it. */
  conditionsList(): Array<{ function_path: string; condition_function_path: string; owner: string | null }> {
    const list = []
    for (const [path, entries] of this.conditions) {
      for (const c of entries) list.push({ function_path: path, condition_function_path: c.path, owner: c.owner })
    }
    return list
  }

  removeCondition(path: string, conditionPath: string, owner: string | null): void {
    const list = this.conditions.get(path)
    if (list === undefined) return
    const kept = list.filter((c) => !(c.path === conditionPath && c.owner === owner))
    if (kept.length === 0) this.conditions.delete(path)
    else this.conditions.set(path, kept)
  }

  // ---- workers ---------------------------------------------------------------------------

  /** Takes in a newly connected worker; the record is the core's, the link the bridge's. */
  addWorker(link: WorkerLink, policy?: Policy): WorkerRecord {
    const worker = new WorkerRecord(`w-${this.nextWorker++}`, link, policy)
    this.workers.set(worker.id, worker)
    return worker
  }

  /** Records what a worker says about itself (`engine.workers.register`). */
  setWorkerInfo(worker: WorkerRecord, info: WorkerInfo): void {
    Object.assign(worker.info, info)
  }

  /** Records a service a worker announced (`registerservice`). */
  addService(worker: WorkerRecord, id: string, service: Record<string, unknown>): void {
    worker.services.set(id, service)
  }

  /**
   * Removes everything a worker registered and fails the calls running on it, except the
   * calls whose frame never left the engine (see `WorkerLink.writtenCalls`): no handler can
   * have seen those, so each is made again, to another worker of its function, with the time
   * left before its original deadline (the caller's timeout does not start again).
   */
  removeWorker(worker: WorkerRecord): void {
    if (!this.workers.delete(worker.id)) return
    for (const path of [...worker.functions]) this.removeWorkerFunction(worker, path)
    const written = worker.link.writtenCalls?.() ?? Number.POSITIVE_INFINITY
    let retried = 0
    for (const id of worker.running) {
      const call = this.pending.get(id)
      if (call === undefined) continue
      this.pending.delete(id)
      clearTimeout(call.timer)
      if (call.seq > written && this.functions.has(call.path)) {
        retried++
        this.call(call.path, call.data, { ...call.opts, deadline: call.deadline }).then(call.resolve, call.reject)
        continue
      }
      call.reject(new IIIError(ErrorCode.InvocationStopped, `the worker running ${call.path} disconnected`))
    }
    if (retried > 0) this.log.warn(`${retried} calls that never reached worker ${worker.id} were sent to other workers`)
    worker.running.clear()
    for (const id of [...worker.triggers]) void this.triggers.unregister(id)
    for (const type of [...worker.triggerTypes]) this.triggers.removeWorkerType(worker, type)
    for (const [path, list] of this.conditions) {
      const kept = list.filter((c) => c.owner !== worker.id)
      if (kept.length === 0) this.conditions.delete(path)
      else if (kept.length !== list.length) this.conditions.set(path, kept)
    }
  }

  /** This engine's workers, then (in a cluster) the other engines'. */
  workersList(): Array<Record<string, unknown>> {
    const local = this.localWorkersList()
    return this.cluster ? [...local, ...this.cluster.workers()] : local
  }

  /** This engine's own workers (links to other engines left out); `status`, `function_count` and
   * `ip_address` are the original's fields. */
  localWorkersList(): Array<Record<string, unknown>> {
    const list = []
    for (const w of this.workers.values()) {
      if (w.link.remote) continue
      list.push({
        id: w.id,
        ...(w.policy !== undefined && { identity: w.policy.identity }),
        ...w.info,
        connected_at_ms: w.connectedAt,
        functions: [...w.functions],
        active_invocations: w.running.size,
        status: 'connected',
        function_count: w.functions.size,
        ip_address: w.link.address ?? null,
      })
    }
    return list
  }

  /** Every trigger workers registered here, then (in a cluster) the other engines'. */
  triggersList(): Array<{ id: string; trigger_type: string; function_path: string; config: JsonObject }> {
    const local = this.triggers.list().filter((t) => {
      const owner = this.triggers.owner(t.id)
      return owner === null || owner === undefined || !this.workers.get(owner)?.link.remote
    })
    return this.cluster ? [...local, ...this.cluster.triggers()] : local
  }

  /** Calls waiting for a worker's answer; for tests and shutdown. */
  get pendingCount(): number {
    return this.pending.size
  }
}

/** A result kept as text (a large forwarded one, a stored state value) parsed for a caller inside the engine. */
function parseRaw(result: unknown): unknown {
  return result instanceof RawJson ? result.parse() : result
}

export type { TriggerMeta }
