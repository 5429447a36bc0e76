/**
 * The contract between the engine core and its modules. HTTP, events, cron, state, streams and
 * logging are modules: each registers its functions and trigger types through
 * {@link EngineApi}, the same operations a worker performs over the bridge.
 *
 * A module lives in `modules/<name>/`: `module.ts` implements {@link EngineModule}, and
 * `options.ts` (when it takes options) exports the zod schema of its `modules.<name>` config
 * entry, which `config.ts` validates at start-up (unknown keys and bad values stop the engine
 * with one sentence naming the key). `modules/index.ts` decides which modules run.
 */

import * as z from 'zod/mini'
import type { EngineOptions } from '../config.js'
import type { CallMeta } from '../core/link.js'
import type { InvocationSpan, Tracing } from '../core/tracing.js'
import type { Logger } from '../log.js'
import '../schema.js'
import type { JsonObject, RawJson, TriggerMeta } from '../protocol.js'

/** The options schema of a module that takes none: its entry is `{}` (or `false`, to switch it off). */
export const noOptions = z.strictObject({})

/** A registered trigger as modules see it. */
export interface TriggerRecord {
  id: string
  trigger_type: string
  function_path: string
  config: JsonObject
  /** The worker that registered it, or null for triggers the engine made itself. */
  owner: string | null
}

/** What a module implements to own a trigger type. */
export interface TriggerTypeHandler {
  /** Called when a trigger of this type is registered; throw an `IIIError` to refuse it. */
  register(trigger: TriggerRecord): void | Promise<void>
  /** Called when it goes away (unregistered, or its worker left). Must not throw. */
  unregister(trigger: TriggerRecord): void | Promise<void>
}

/** Per-call facts a built-in function receives. */
export interface CallContext {
  trigger?: TriggerMeta
  traceparent?: string
  baggage?: string
  /** The id of the worker that made the call, when a worker made it. */
  workerId?: string
}

/** A function implemented inside the engine. Throw an `IIIError` for a coded error. */
export type InternalHandler = (data: any, ctx: CallContext) => unknown

export interface FunctionInfo {
  description?: string
  metadata?: JsonObject
  request_format?: unknown
  response_format?: unknown
}

export interface InvokeOptions extends CallMeta {
  /** Set when a trigger caused the call: the function's conditions run first. */
  trigger?: TriggerMeta
  /** Overrides the engine's default invocation timeout for this call. */
  timeoutMs?: number
  /**
   * When the call times out, on the `performance.now()` clock; set by the core when it makes a
   * call again on another worker, so that the retry ends at the original deadline.
   */
  deadline?: number
  workerId?: string
  /** Resolve with a large result as {@link RawJson} text instead of parsing it (for forwarding). */
  raw?: boolean
  /**
   * A call another engine of the cluster relayed here: it already ran the conditions, and it
   * goes to one of this engine's own workers only (never back to another engine).
   */
  relayed?: boolean
  /** The call's observer handle (tracing or metrics on); set by the core, which records the worker it picks. */
  span?: InvocationSpan
}

export interface EngineApi {
  readonly options: EngineOptions
  readonly log: Logger
  registerFunction(path: string, handler: InternalHandler, info?: FunctionInfo): void
  registerTriggerType(id: string, handler: TriggerTypeHandler, description?: string): void
  /**
   * Calls a function wherever it lives. With `opts.trigger` the function's conditions run
   * first and a `false` rejects with `condition_failed`. Rejects with an `IIIError`.
   */
  invoke(path: string, data: unknown, opts?: InvokeOptions): Promise<unknown>
  /** True when a function of that path is registered (built in or by a worker). */
  hasFunction(path: string): boolean
  /** Triggers of a type, for modules that fire them (events, cron). */
  triggersOfType(type: string): Iterable<TriggerRecord>
  /** Called (coalesced) after the set of registered functions changed. */
  onFunctionsChanged(listener: () => void): void
  /** Adds an invocation observer (tracing, metrics): every invocation from now on is told to it. */
  useTracing(observer: Tracing): void
  functionsList(): Array<{ function_path: string; description?: string; metadata?: JsonObject; workers: number }>
}

/** A part of the engine that can be switched on or off in the config. */
export interface EngineModule {
  readonly name: string
  start(engine: EngineApi): Promise<void>
  /**
   * The first step of a graceful shutdown: stop taking new work (connections, ticks, claims)
   * while work in flight goes on; resolves when the module's own work in flight is done.
   * `stop` follows, after at most the engine's `shutdown_grace_ms`.
   */
  drain?(): Promise<void> | void
  /** Releases sockets, timers and files. Safe to call twice. */
  stop(): Promise<void>
  /** The addresses the module listens on, printed when the engine is ready. */
  addresses?(): Record<string, string>
}
