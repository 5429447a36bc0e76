/**
 * The Bridge: one worker's link to the engine, as a facade over its parts: the options
 * (`options.ts`), the connection (`connection.ts`, the only place frames are encoded and
 * decoded), the registry and its replay (`registry.ts`, `registrations.ts`), this worker's
 * outgoing calls (`calls.ts`) and the handlers the engine runs here (`invocations.ts`).
 */
import { EventEmitter } from 'node:events'
import { Calls } from './calls.js'
import { Connection } from './connection.js'
import { currentDefault, setCurrentDefault } from './default-slot.js'
import { ErrorCode, IIIError } from './errors.js'
import { type EmitOptions, type EmitResult, emitInput } from './events.js'
import { Invocations } from './invocations.js'
import { Logger, type LogRecord } from './logger.js'
import { type BridgeOptions, type ResolvedOptions, resolveOptions } from './options.js'
import type { Frame } from './protocol.js'
import { Registrations } from './registrations.js'
import { Registry } from './registry.js'
import { unwatchSignals, watchSignals } from './signals.js'
import { State } from './state.js'
import type {
  BridgeEvents,
  ConditionInput,
  FunctionHandler,
  FunctionMessage,
  FunctionRef,
  InvokeOptions,
  RegisterFunctionInput,
  Registration,
  ServiceInput,
  TriggerInput,
  TriggerRef,
  TriggerTypeHandler,
  TriggerTypeInput,
} from './types.js'

export class Bridge {
  /** The engine address this bridge connects to. */
  readonly url: string
  /** Logs outside of handlers (forwarded to the engine when `forwardLogs`). */
  readonly logger: Logger
  /** The id the engine gave this worker on the current connection. */
  workerId: string | undefined
  private readonly options: ResolvedOptions
  /** The SDK's own log: local only, never forwarded. */
  private readonly log: Logger
  private readonly events = new EventEmitter<BridgeEvents>()
  private readonly connection: Connection
  private readonly registrations: Registrations
  private readonly calls: Calls
  private readonly invocations: Invocations
  private readonly registry: Registry
  private stateHandle: State | undefined

  /** `new Bridge(url?, options?)` or `new Bridge(options)`; a bad option throws `invalid_argument`. */
  constructor(url?: string | BridgeOptions, options: BridgeOptions = {}) {
    this.options = resolveOptions(url, options)
    this.url = this.options.url
    const level = this.options.logLevel
    const format = this.options.logFormat
    const worker = () => ({ id: this.workerId, name: this.options.workerName })
    const log = (this.log = new Logger({ level, format, worker, functionPath: 'iii-sdk' }))
    const forward = this.options.forwardLogs ? (record: LogRecord) => this.calls.forwardLog(record) : undefined
    this.logger = new Logger({ level, format, worker, forward })
    const registry = (this.registry = new Registry())
    this.connection = new Connection(this.options, log, {
      replay: () => registry.replay(),
      opened: () => this.events.emit('connected'),
      received: (frame) => this.dispatch(frame),
      closed: () => this.onClosed(),
      failed: (err) => this.calls.failAll(err),
    })
    this.registrations = new Registrations(registry, (frame) => void this.connection.send(frame))
    this.calls = new Calls(this.connection, this.options, () => {
      if (!this.connection.isStarted && !this.connection.isClosed) this.connect().catch(() => {})
    })
    this.invocations = new Invocations(registry, this.connection, this.logger, log)
    if (currentDefault() === undefined) setCurrentDefault(this)
    if (this.options.shutdownOnSignal) watchSignals(this)
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

  /** The engine's state store through this bridge (`state.get/set/delete/getGroup/...`). */
  get state(): State {
    this.stateHandle ??= new State(this)
    return this.stateHandle
  }

  /** True while the socket to the engine is open. */
  get isConnected(): boolean {
    return this.connection.isOpen
  }

  /** Resolves once the socket is open (retrying); rejects on `close()` or after `connectTimeoutMs`. */
  connect(): Promise<void> {
    return this.connection.connect()
  }

  /** Closes and stops reconnecting; waiting calls reject with `bridge_closed`. Registrations are kept. */
  async close(): Promise<void> {
    unwatchSignals(this)
    this.calls.failAll(new IIIError(ErrorCode.BridgeClosed, 'the bridge was closed'))
    if (currentDefault() === this) setCurrentDefault(undefined)
    await this.connection.close()
  }

  /**
   * Graceful shutdown (what SIGTERM/SIGINT do, see `shutdownOnSignal`): the engine is told
   * this worker serves none of its functions any more, so it routes no new calls here; the
   * handlers running (and calls that were already on their way) finish, for up to `graceMs`
   * (default `shutdownGraceMs`); then the bridge closes. Answers sent by then are delivered.
   */
  async shutdown(graceMs: number = this.options.shutdownGraceMs): Promise<void> {
    unwatchSignals(this)
    const until = Date.now() + graceMs
    if (this.connection.isOpen) {
      for (const function_path of this.registry.functions.keys()) {
        this.connection.send({ type: 'unregisterfunction', function_path })
      }
      // Calls the engine routed here before it read the unregistrations are on their way:
      // once the pong is back they have all arrived, and the wait below covers them.
      await this.connection.flush(graceMs)
    }
    if (!(await this.invocations.idle(Math.max(0, until - Date.now())))) {
      this.log.warn(`${this.invocations.active} handler(s) still running after ${graceMs} ms; disconnecting`)
    }
    await this.close()
  }

  /** The same as {@link close}. */
  disconnect(): Promise<void> {
    return this.close()
  }

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
    return this.registrations.registerFunction(input, (handler ?? input?.handler) as FunctionHandler)
  }

  /** Binds a trigger to a function. The id is a random UUID unless given. */
  registerTrigger(input: TriggerInput): TriggerRef {
    return this.registrations.registerTrigger(input)
  }

  /**
   * Before a trigger runs `function_path`, the engine calls `condition_function_path` and skips
   * the handler on `false`. With `handler`, the condition function is registered too.
   */
  registerCondition(input: ConditionInput): Registration {
    return this.registrations.registerCondition(input)
  }

  /** Owns a trigger type: its triggers go to `handler.registerTrigger`, removals to `unregisterTrigger`. */
  registerTriggerType(input: TriggerTypeInput, handler: TriggerTypeHandler): Registration & { id: string } {
    return this.registrations.registerTriggerType(input, handler)
  }

  /** Describes a service (a group of functions) to the engine; replayed like the rest. */
  registerService(input: ServiceInput): void {
    this.registrations.registerService(input)
  }

  /**
   * Calls a function anywhere and resolves with its result; rejects with an {@link IIIError}
   * (never throws). Inside a handler the call carries the trace on. Starts connecting if needed.
   */
  invokeFunction<TOutput = any>(function_path: string, data?: unknown, options?: InvokeOptions): Promise<TOutput> {
    return this.calls.invoke<TOutput>(function_path, data, options)
  }

  /** Fire and forget: no answer, not even an error; `invalid_argument`, `queue_full`, `bridge_closed` throw. */
  invokeFunctionAsync(function_path: string, data?: unknown, options: Pick<InvokeOptions, 'trigger'> = {}): void {
    this.calls.invokeAsync(function_path, data, options?.trigger)
  }

  /**
   * Publishes `data` on an event topic (the built-in `emit`); resolves once the engine stored
   * it, with `{event_id, duplicate}` (null when events are not durable). See {@link EmitOptions}.
   */
  emit(topic: string, data: unknown, options?: EmitOptions): Promise<EmitResult> {
    return this.invokeFunction('emit', emitInput(topic, data, options))
  }

  private onClosed(): void {
    this.workerId = undefined
    this.calls.stopSent()
    this.events.emit('disconnected')
  }

  private dispatch(frame: Frame): void {
    switch (frame.type) {
      case 'invokefunction':
        return void this.invocations.run(frame)
      case 'invocationresult':
        return this.calls.settle(frame)
      case 'registertrigger':
        return void this.invocations.registerTrigger(frame)
      case 'unregistertrigger':
        return void this.invocations.unregisterTrigger(frame.id, frame.trigger_type)
      case 'workerregistered':
        this.workerId = frame.worker_id
        this.calls.describeWorker(this.options.workerName)
        return void this.events.emit('workerregistered', frame.worker_id)
      case 'error':
        if (this.calls.refuse(frame)) return
        this.log.warn(`the engine refused ${frame.ref ?? 'a frame'}: ${frame.code}: ${frame.message}`)
        return void this.events.emit('engineerror', frame)
      default:
        this.log.debug(`ignored an unexpected ${frame.type} frame`)
    }
  }
}
