/**
 * The Bridge: one worker's connection to the engine. It keeps the registry of what this worker
 * offers (functions, trigger types, triggers, conditions, services) and replays all of it after
 * every reconnect; it queues frames while the socket is closed; it runs the engine's calls to
 * local handlers and matches the engine's answers to this worker's calls.
 */

import { randomBytes, randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { arch, platform, release } from 'node:os'
import { getContext, type InvocationContext, newTraceparent, runWithContext, traceIdOf } from './context.js'
import { ErrorCode, IIIError, toWireError } from './errors.js'
import { type EmitOptions, type EmitResult, emitInput } from './events.js'
import { defaultLogLevel, Logger, type LogLevel } from './logger.js'
import {
  decodeFrame,
  type ErrorFrame,
  encodeFrame,
  type Frame,
  type InvocationResultFrame,
  type InvokeFunctionFrame,
  type JsonObject,
  type RegisterConditionFrame,
  type RegisterFunctionFrame,
  type RegisterServiceFrame,
  type RegisterTriggerFrame,
  type RegisterTriggerTypeFrame,
  type TriggerMeta,
} from './protocol.js'
import { State } from './state.js'
import { ReconnectingSocket } from './transport.js'
import type {
  BridgeEvents,
  BridgeOptions,
  ConditionInput,
  FunctionHandler,
  FunctionMessage,
  FunctionRef,
  InvokeOptions,
  RegisterFunctionInput,
  Registration,
  ServiceInput,
  TriggerConfig,
  TriggerInput,
  TriggerRef,
  TriggerTypeHandler,
  TriggerTypeInput,
} from './types.js'

/** The engine address used when neither an URL nor `III_BRIDGE_URL` is given. */
export const DEFAULT_BRIDGE_URL = 'ws://127.0.0.1:49134'

interface PendingCall {
  resolve(value: unknown): void
  reject(err: IIIError): void
  timer: NodeJS.Timeout
  functionPath: string
  sent: boolean
}

interface QueuedFrame {
  text: string
  invocationId?: string
}

let defaultBridge: Bridge | undefined

/** The default bridge: the first one created, or a new one from `III_BRIDGE_URL` that connects. */
export function getDefaultBridge(): Bridge {
  let bridge = defaultBridge
  if (bridge === undefined) {
    bridge = new Bridge() // the constructor makes it the default
    bridge.connect().catch(() => {})
  }
  return bridge
}

/** Makes `bridge` the default (or forgets the default with `undefined`). */
export function setDefaultBridge(bridge: Bridge | undefined): void {
  defaultBridge = bridge
}

/** `createBridge({url?, ...options})`: the same as `new Bridge(url, options)`. */
export function createBridge(options: BridgeOptions = {}): Bridge {
  return new Bridge(options)
}

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new TypeError(`option ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`)
  }
  return value
}

export class Bridge {
  /** The engine address this bridge connects to. */
  readonly url: string
  /** Logs outside of handlers (forwarded to the engine when `forwardLogs`). */
  readonly logger: Logger
  /** The id the engine gave this worker on the current connection. */
  workerId: string | undefined

  private readonly opts: Required<Omit<BridgeOptions, 'url' | 'workerName' | 'token'>> & {
    workerName?: string
  }
  private readonly log: Logger
  private readonly transport: ReconnectingSocket
  private readonly functions = new Map<string, { frame: RegisterFunctionFrame; handler: FunctionHandler }>()
  private readonly triggerTypes = new Map<string, { frame: RegisterTriggerTypeFrame; handler: TriggerTypeHandler }>()
  private readonly triggers = new Map<string, RegisterTriggerFrame>()
  private readonly conditions: RegisterConditionFrame[] = []
  private readonly services = new Map<string, RegisterServiceFrame>()
  /** Triggers the engine forwarded to this worker as the owner of their type. */
  private readonly ownedTriggers = new Map<string, TriggerConfig>()
  private readonly pending = new Map<string, PendingCall>()
  private queue: QueuedFrame[] = []
  private openWaiters: Array<{ resolve(): void; reject(err: Error): void }> = []
  private readonly idPrefix = randomBytes(4).toString('hex')
  private nextId = 0
  /** Counts socket openings; replies to calls from an earlier socket are dropped. */
  private generation = 0
  private closed = false
  private readonly events = new EventEmitter<BridgeEvents>()

  constructor(url?: string | BridgeOptions, options: BridgeOptions = {}) {
    const o = typeof url === 'object' && url !== null ? url : { ...options, url: url ?? options.url }
    this.url = o.url ?? process.env.III_BRIDGE_URL ?? DEFAULT_BRIDGE_URL
    if (!/^wss?:\/\/./.test(this.url)) throw new TypeError(`the bridge url must start with ws:// or wss://`)
    this.opts = {
      invocationTimeoutMs: positive('invocationTimeoutMs', o.invocationTimeoutMs, 30_000),
      reconnectInitialDelayMs: positive('reconnectInitialDelayMs', o.reconnectInitialDelayMs, 100),
      reconnectMaxDelayMs: positive('reconnectMaxDelayMs', o.reconnectMaxDelayMs, 5_000),
      connectTimeoutMs: positive('connectTimeoutMs', o.connectTimeoutMs, 10_000),
      pingIntervalMs: positive('pingIntervalMs', o.pingIntervalMs, 20_000, true),
      maxQueuedMessages: positive('maxQueuedMessages', o.maxQueuedMessages, 10_000),
      forwardLogs: o.forwardLogs ?? true,
      logLevel: o.logLevel ?? defaultLogLevel(),
      workerName: o.workerName ?? process.env.III_WORKER_NAME,
    }
    if (!['debug', 'info', 'warn', 'error', 'silent'].includes(this.opts.logLevel)) {
      throw new TypeError(`option logLevel must be debug, info, warn, error or silent, got ${this.opts.logLevel}`)
    }
    if (this.opts.reconnectMaxDelayMs < this.opts.reconnectInitialDelayMs) {
      throw new TypeError('option reconnectMaxDelayMs must not be smaller than reconnectInitialDelayMs')
    }
    this.log = new Logger({ level: this.opts.logLevel, functionPath: 'iii-sdk' })
    this.logger = new Logger({
      level: this.opts.logLevel,
      forward: this.opts.forwardLogs ? (record) => this.forwardLog(record) : undefined,
    })
    const headers = o.token === undefined ? undefined : { Authorization: `Bearer ${o.token}` }
    this.transport = new ReconnectingSocket(
      {
        url: this.url,
        headers,
        initialDelayMs: this.opts.reconnectInitialDelayMs,
        maxDelayMs: this.opts.reconnectMaxDelayMs,
        pingIntervalMs: this.opts.pingIntervalMs,
        connectTimeoutMs: this.opts.connectTimeoutMs,
        log: this.log,
      },
      { onOpen: () => this.onOpen(), onClose: () => this.onClose(), onMessage: (text) => this.onMessage(text) },
    )
    if (defaultBridge === undefined) defaultBridge = this
  }

  /** Listens to a bridge event (see {@link BridgeEvents}). */
  on<K extends keyof BridgeEvents>(event: K, listener: (...args: BridgeEvents[K]) => void): this {
    this.events.on(event, listener as never)
    return this
  }

  /** Stops listening. */
  off<K extends keyof BridgeEvents>(event: K, listener: (...args: BridgeEvents[K]) => void): this {
    this.events.off(event, listener as never)
    return this
  }

  private stateHandle: State | undefined

  /** The engine's state store through this bridge (`state.get/set/delete/getGroup/...`). */
  get state(): State {
    this.stateHandle ??= new State(this)
    return this.stateHandle
  }

  /** True while the socket to the engine is open. */
  get isConnected(): boolean {
    return this.transport.isOpen
  }

  /**
   * Opens the connection and resolves once the socket is open (retrying with backoff for as
   * long as it takes). Calling it again while connecting or connected returns at once / joins
   * the same wait. Rejects with `bridge_closed` if `close()` is called first.
   */
  connect(): Promise<void> {
    this.closed = false
    if (this.transport.isOpen) return Promise.resolve()
    const wait = new Promise<void>((resolve, reject) => this.openWaiters.push({ resolve, reject }))
    this.transport.start()
    return wait
  }

  /**
   * Closes the connection and stops reconnecting. Calls still waiting reject with
   * `bridge_closed`. Registrations are kept: a later `connect()` replays them. Safe to call twice.
   */
  async close(): Promise<void> {
    this.closed = true
    const err = new IIIError(ErrorCode.BridgeClosed, 'the bridge was closed')
    for (const w of this.openWaiters.splice(0)) w.reject(err)
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer)
      this.pending.delete(id)
      call.reject(err)
    }
    this.queue = []
    if (defaultBridge === this) defaultBridge = undefined
    await this.transport.stop()
  }

  /** The same as {@link close}. */
  disconnect(): Promise<void> {
    return this.close()
  }

  // ---- registrations -------------------------------------------------------------------

  /**
   * Offers a function to the engine, as `registerFunction({function_path, handler, ...})` or
   * `registerFunction(message, handler)`. Registering a path again replaces the handler.
   */
  registerFunction<TInput = any, TOutput = unknown>(input: RegisterFunctionInput<TInput, TOutput>): FunctionRef
  registerFunction<TInput = any, TOutput = unknown>(
    message: FunctionMessage,
    handler: FunctionHandler<TInput, TOutput>,
  ): FunctionRef
  registerFunction(input: FunctionMessage & { handler?: FunctionHandler }, handler?: FunctionHandler): FunctionRef {
    const fn = handler ?? input.handler
    const path = input.function_path
    if (typeof path !== 'string' || path.length === 0) throw new TypeError('function_path must be a non-empty string')
    if (typeof fn !== 'function') throw new TypeError(`the handler of ${path} must be a function`)
    const frame: RegisterFunctionFrame = { type: 'registerfunction', function_path: path }
    if (input.description !== undefined) frame.description = input.description
    if (input.request_format !== undefined) frame.request_format = input.request_format
    if (input.response_format !== undefined) frame.response_format = input.response_format
    if (input.metadata !== undefined) frame.metadata = input.metadata
    const entry = { frame, handler: fn }
    const previous = this.functions.get(path)
    this.functions.set(path, entry)
    if (previous === undefined || encodeFrame(previous.frame) !== encodeFrame(frame)) this.sendRegistration(frame)
    return {
      function_path: path,
      unregister: () => {
        if (this.functions.get(path) !== entry) return
        this.functions.delete(path)
        this.sendRegistration({ type: 'unregisterfunction', function_path: path })
      },
    }
  }

  /** Binds a trigger to a function. The id is a random UUID unless given. */
  registerTrigger(input: TriggerInput): TriggerRef {
    if (typeof input.trigger_type !== 'string' || input.trigger_type.length === 0)
      throw new TypeError('trigger_type must be a non-empty string')
    if (typeof input.function_path !== 'string' || input.function_path.length === 0)
      throw new TypeError('function_path must be a non-empty string')
    const frame: RegisterTriggerFrame = {
      type: 'registertrigger',
      id: input.id ?? randomUUID(),
      trigger_type: input.trigger_type,
      function_path: input.function_path,
      config: input.config ?? {},
    }
    this.triggers.set(frame.id, frame)
    this.sendRegistration(frame)
    return {
      id: frame.id,
      unregister: () => {
        if (this.triggers.get(frame.id) !== frame) return
        this.triggers.delete(frame.id)
        this.sendRegistration({ type: 'unregistertrigger', id: frame.id, trigger_type: frame.trigger_type })
      },
    }
  }

  /**
   * Binds a condition to a handler function: before a trigger runs `function_path`, the engine
   * calls `condition_function_path` and skips the handler if it returns `false`. With `handler`,
   * the condition function is registered too. `unregister()` takes the binding back at once
   * (`unregistercondition`; when disconnected it is just not replayed) and unregisters the
   * function it registered. The engine keeps one binding per pair of paths, so while another
   * registration of the same pair is still held, `unregister()` leaves the binding in place.
   */
  registerCondition(input: ConditionInput): Registration {
    if (typeof input.function_path !== 'string' || input.function_path.length === 0)
      throw new TypeError('function_path must be a non-empty string')
    if (typeof input.condition_function_path !== 'string' || input.condition_function_path.length === 0)
      throw new TypeError('condition_function_path must be a non-empty string')
    const frame: RegisterConditionFrame = {
      type: 'registercondition',
      function_path: input.function_path,
      condition_function_path: input.condition_function_path,
    }
    const fn =
      input.handler && this.registerFunction({ function_path: input.condition_function_path, handler: input.handler })
    this.conditions.push(frame)
    this.sendRegistration(frame)
    return {
      unregister: () => {
        const i = this.conditions.indexOf(frame)
        if (i < 0) return
        this.conditions.splice(i, 1)
        const held = this.conditions.some(
          (c) => c.function_path === frame.function_path && c.condition_function_path === frame.condition_function_path,
        )
        if (!held) {
          this.sendRegistration({
            type: 'unregistercondition',
            function_path: frame.function_path,
            condition_function_path: frame.condition_function_path,
          })
        }
        fn?.unregister()
      },
    }
  }

  /**
   * Makes this worker the owner of a trigger type. The engine forwards every trigger of that
   * type (from any worker) to `handler.registerTrigger`, and its removal to `unregisterTrigger`.
   * After a reconnect the engine forwards the triggers again; one that is already known with
   * the same function and config is acknowledged without calling the handler again.
   */
  registerTriggerType(input: TriggerTypeInput, handler: TriggerTypeHandler): Registration & { id: string } {
    if (typeof input.id !== 'string' || input.id.length === 0) throw new TypeError('id must be a non-empty string')
    const frame: RegisterTriggerTypeFrame = { type: 'registertriggertype', id: input.id }
    if (input.description !== undefined) frame.description = input.description
    const entry = { frame, handler }
    this.triggerTypes.set(input.id, entry)
    this.sendRegistration(frame)
    return {
      id: input.id,
      unregister: () => {
        if (this.triggerTypes.get(input.id) !== entry) return
        this.triggerTypes.delete(input.id)
        for (const [id, t] of this.ownedTriggers) if (t.trigger_type === input.id) this.ownedTriggers.delete(id)
        this.sendRegistration({ type: 'unregistertriggertype', id: input.id })
      },
    }
  }

  /** Describes a service (a group of functions) to the engine; replayed like the rest. */
  registerService(input: ServiceInput): void {
    const frame: RegisterServiceFrame = { type: 'registerservice', ...input }
    this.services.set(input.id, frame)
    this.sendRegistration(frame)
  }

  // ---- calls ---------------------------------------------------------------------------

  /**
   * Calls a function anywhere and resolves with its result. Rejects with an {@link IIIError}:
   * `function_not_found`, `invocation_failed`, `invocation_timeout`, `invocation_stopped`, ...
   * Inside a handler the call carries the current trace on. Starts connecting if nothing has.
   */
  invokeFunction<TOutput = any>(function_path: string, data?: unknown, options: InvokeOptions = {}): Promise<TOutput> {
    if (this.closed) return Promise.reject(new IIIError(ErrorCode.BridgeClosed, 'the bridge was closed'))
    const timeoutMs = options.timeoutMs ?? this.opts.invocationTimeoutMs
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      return Promise.reject(new IIIError(ErrorCode.InvalidArgument, 'timeoutMs must be a positive number'))
    }
    const id = `${this.idPrefix}-${++this.nextId}`
    const frame = this.invokeFrame(function_path, data, options.trigger, id)
    frame.timeout_ms = Math.ceil(timeoutMs)
    let text: string
    try {
      text = encodeFrame(frame)
    } catch (err) {
      return Promise.reject(new IIIError(ErrorCode.InvalidArgument, `data is not JSON: ${(err as Error).message}`))
    }
    if (!this.transport.isOpen && this.queue.length >= this.opts.maxQueuedMessages) {
      return Promise.reject(this.queueFull())
    }
    this.ensureStarted()
    return new Promise<TOutput>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return
        this.queue = this.queue.filter((q) => q.invocationId !== id)
        reject(new IIIError(ErrorCode.InvocationTimeout, `${function_path} did not answer within ${timeoutMs} ms`))
      }, timeoutMs)
      const call: PendingCall = {
        resolve: resolve as (v: unknown) => void,
        reject,
        timer,
        functionPath: function_path,
        sent: false,
      }
      this.pending.set(id, call)
      if (this.transport.send(text)) call.sent = true
      else this.queue.push({ text, invocationId: id })
    })
  }

  /** Calls a function without waiting for, or getting, any answer (not even an error). */
  invokeFunctionAsync(function_path: string, data?: unknown, options: Pick<InvokeOptions, 'trigger'> = {}): void {
    if (this.closed) throw new IIIError(ErrorCode.BridgeClosed, 'the bridge was closed')
    let text: string
    try {
      text = encodeFrame(this.invokeFrame(function_path, data, options.trigger))
    } catch (err) {
      throw new IIIError(ErrorCode.InvalidArgument, `data is not JSON: ${(err as Error).message}`)
    }
    this.ensureStarted()
    this.sendOrQueue(text)
  }

  /**
   * Publishes `data` on an event topic (the built-in `emit`); resolves once the engine stored
   * it, with `{event_id, duplicate}` (null when events are not durable). See {@link EmitOptions}.
   */
  emit(topic: string, data: unknown, options?: EmitOptions): Promise<EmitResult> {
    return this.invokeFunction('emit', emitInput(topic, data, options))
  }

  // ---- internals -----------------------------------------------------------------------

  private invokeFrame(function_path: string, data: unknown, trigger?: TriggerMeta, id?: string): InvokeFunctionFrame {
    if (typeof function_path !== 'string' || function_path.length === 0) {
      throw new IIIError(ErrorCode.InvalidArgument, 'function_path must be a non-empty string')
    }
    const frame: InvokeFunctionFrame = { type: 'invokefunction', function_path, data: data === undefined ? null : data }
    if (id !== undefined) frame.invocation_id = id
    if (trigger !== undefined) frame.trigger = trigger
    const ctx = getContext()
    if (ctx !== undefined) {
      frame.traceparent = ctx.traceparent
      if (ctx.baggage !== undefined) frame.baggage = ctx.baggage
    }
    return frame
  }

  private ensureStarted(): void {
    if (!this.transport.isStarted && !this.closed) this.connect().catch(() => {})
  }

  private queueFull(): IIIError {
    return new IIIError(ErrorCode.QueueFull, `${this.queue.length} frames are already waiting for the connection`)
  }

  private sendOrQueue(text: string): void {
    if (this.transport.send(text)) return
    if (this.queue.length >= this.opts.maxQueuedMessages) throw this.queueFull()
    this.queue.push({ text })
  }

  /** Registrations are kept in the registry and replayed on open, so they are never queued. */
  private sendRegistration(frame: Frame): void {
    this.transport.send(encodeFrame(frame))
  }

  private forwardLog(record: object): void {
    if (this.closed || !this.transport.isStarted) return
    if (!this.transport.isOpen && this.queue.length >= this.opts.maxQueuedMessages / 2) return
    try {
      this.sendOrQueue(encodeFrame({ type: 'invokefunction', function_path: 'logger.log', data: record }))
    } catch {
      // best effort
    }
  }

  private onOpen(): void {
    this.generation++
    const frames: Frame[] = [
      ...[...this.functions.values()].map((f) => f.frame),
      ...[...this.triggerTypes.values()].map((t) => t.frame),
      ...this.triggers.values(),
      ...this.conditions,
      ...this.services.values(),
    ]
    for (const frame of frames) this.transport.send(encodeFrame(frame))
    const queued = this.queue
    this.queue = []
    for (const q of queued) {
      if (q.invocationId !== undefined) {
        const call = this.pending.get(q.invocationId)
        if (call === undefined) continue
        call.sent = true
      }
      this.transport.send(q.text)
    }
    this.log.debug(`registered ${frames.length} item(s) and sent ${queued.length} queued frame(s)`)
    for (const w of this.openWaiters.splice(0)) w.resolve()
    this.events.emit('connected')
  }

  private onClose(): void {
    this.workerId = undefined
    for (const [id, call] of this.pending) {
      if (!call.sent) continue
      clearTimeout(call.timer)
      this.pending.delete(id)
      call.reject(
        new IIIError(ErrorCode.InvocationStopped, `the connection dropped while ${call.functionPath} was running`),
      )
    }
    this.events.emit('disconnected')
  }

  private onMessage(text: string): void {
    let frame: Frame
    try {
      frame = decodeFrame(text)
    } catch (err) {
      this.log.debug(`ignored a bad frame from the engine: ${(err as Error).message}`)
      return
    }
    switch (frame.type) {
      case 'invokefunction':
        void this.runInvocation(frame)
        return
      case 'invocationresult':
        this.settle(frame)
        return
      case 'workerregistered':
        this.onWorkerRegistered(frame.worker_id)
        return
      case 'registertrigger':
        void this.onForwardedTrigger({
          id: frame.id,
          trigger_type: frame.trigger_type,
          function_path: frame.function_path,
          config: frame.config,
        })
        return
      case 'unregistertrigger':
        void this.onForwardedUnregister(frame.id, frame.trigger_type)
        return
      case 'ping':
        this.transport.send(encodeFrame({ type: 'pong' }))
        return
      case 'error':
        this.onEngineError(frame)
        return
      default:
        this.log.debug(`ignored an unexpected ${frame.type} frame`)
    }
  }

  private onWorkerRegistered(workerId: string): void {
    this.workerId = workerId
    const info: Record<string, string> = {
      runtime: 'node',
      version: process.version,
      os: `${platform()} ${release()} (${arch()})`,
    }
    if (this.opts.workerName !== undefined) info.name = this.opts.workerName
    this.transport.send(encodeFrame({ type: 'invokefunction', function_path: 'engine.workers.register', data: info }))
    this.events.emit('workerregistered', workerId)
  }

  private settle(frame: InvocationResultFrame): void {
    const call = this.pending.get(frame.invocation_id)
    if (call === undefined) return // timed out locally already: a late answer is dropped
    this.pending.delete(frame.invocation_id)
    clearTimeout(call.timer)
    if (frame.error !== undefined) call.reject(IIIError.fromWire(frame.error))
    else call.resolve(frame.result === undefined ? null : frame.result)
  }

  private onEngineError(frame: ErrorFrame): void {
    const call = frame.ref === undefined ? undefined : this.pending.get(frame.ref)
    if (call !== undefined && frame.ref !== undefined) {
      this.pending.delete(frame.ref)
      clearTimeout(call.timer)
      call.reject(new IIIError(frame.code, frame.message, frame.details))
      return
    }
    this.log.warn(`the engine refused ${frame.ref ?? 'a frame'}: ${frame.code}: ${frame.message}`)
    this.events.emit('engineerror', frame)
  }

  private async runInvocation(frame: InvokeFunctionFrame): Promise<void> {
    const generation = this.generation
    const id = frame.invocation_id
    const entry = this.functions.get(frame.function_path)
    const traceparent = traceIdOf(frame.traceparent) !== undefined ? (frame.traceparent as string) : newTraceparent()
    const ctx: InvocationContext = {
      traceId: traceIdOf(traceparent) as string,
      traceparent,
      functionPath: frame.function_path,
      logger: this.logger.child({ traceId: traceIdOf(traceparent), functionPath: frame.function_path }),
    }
    if (frame.baggage !== undefined) ctx.baggage = frame.baggage
    if (frame.trigger !== undefined) ctx.trigger = frame.trigger
    if (id !== undefined) ctx.invocationId = id
    let reply: Pick<InvocationResultFrame, 'result' | 'error'>
    if (entry === undefined) {
      reply = {
        error: { code: ErrorCode.FunctionNotFound, message: `${frame.function_path} is not registered on this worker` },
      }
    } else {
      try {
        const result = await runWithContext(ctx, () => entry.handler(frame.data, ctx))
        reply = { result: result === undefined ? null : result }
      } catch (err) {
        reply = { error: toWireError(err, ErrorCode.InvocationFailed) }
        if (id === undefined) ctx.logger.error(`handler failed: ${reply.error?.message}`)
      }
    }
    if (id === undefined) return
    // the engine already failed calls of an earlier connection with invocation_stopped
    if (generation !== this.generation || !this.transport.isOpen) return
    const result: InvocationResultFrame = {
      type: 'invocationresult',
      invocation_id: id,
      function_path: frame.function_path,
      traceparent,
      ...reply,
    }
    if (ctx.baggage !== undefined) result.baggage = ctx.baggage
    let text: string
    try {
      text = encodeFrame(result)
    } catch (err) {
      text = encodeFrame({
        type: 'invocationresult',
        invocation_id: id,
        function_path: frame.function_path,
        error: { code: ErrorCode.InvocationFailed, message: `the result is not JSON: ${(err as Error).message}` },
      })
    }
    this.transport.send(text)
  }

  private async onForwardedTrigger(trigger: TriggerConfig): Promise<void> {
    const owner = this.triggerTypes.get(trigger.trigger_type)
    const known = this.ownedTriggers.get(trigger.id)
    let error: { code: string; message: string } | undefined
    if (owner === undefined) {
      error = {
        code: ErrorCode.InvalidTrigger,
        message: `this worker does not own trigger type ${trigger.trigger_type}`,
      }
    } else if (
      known === undefined ||
      known.function_path !== trigger.function_path ||
      JSON.stringify(known.config) !== JSON.stringify(trigger.config)
    ) {
      try {
        if (known !== undefined) await owner.handler.unregisterTrigger(known)
        await owner.handler.registerTrigger(trigger)
        this.ownedTriggers.set(trigger.id, trigger)
      } catch (err) {
        this.ownedTriggers.delete(trigger.id)
        error = toWireError(err, ErrorCode.InvalidTrigger)
      }
    }
    const result: Frame = {
      type: 'triggerregistrationresult',
      id: trigger.id,
      trigger_type: trigger.trigger_type,
      function_path: trigger.function_path,
    }
    if (error !== undefined) result.error = error
    this.transport.send(encodeFrame(result))
  }

  private async onForwardedUnregister(id: string, triggerType?: string): Promise<void> {
    const known = this.ownedTriggers.get(id)
    if (known === undefined) return
    this.ownedTriggers.delete(id)
    const owner = this.triggerTypes.get(triggerType ?? known.trigger_type)
    try {
      await owner?.handler.unregisterTrigger(known)
    } catch (err) {
      this.log.warn(`unregisterTrigger of ${known.trigger_type} failed for ${id}: ${(err as Error).message}`)
    }
  }
}

let fallbackLogger: Logger | undefined

function currentLogger(): Logger {
  const ctx = getContext()
  if (ctx !== undefined) return ctx.logger
  if (defaultBridge !== undefined) return defaultBridge.logger
  fallbackLogger ??= new Logger()
  return fallbackLogger
}

/**
 * Logs through the right logger for where it is called: inside a handler, that call's logger
 * (with its trace id and function path); elsewhere the default bridge's logger.
 */
export const logger: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'> = {
  debug: (message, data) => currentLogger().debug(message, data),
  info: (message, data) => currentLogger().info(message, data),
  warn: (message, data) => currentLogger().warn(message, data),
  error: (message, data) => currentLogger().error(message, data),
}
