/**
 * The context of the call a handler is running: its trace, its trigger and a logger bound to
 * both. The bridge runs every handler inside one, so `getContext()` works anywhere below the
 * handler (in awaited helpers too), and calls made from there carry the trace on.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { randomFillSync } from 'node:crypto'
import type { Logger } from './logger.js'
import type { TriggerMeta } from './protocol.js'

/** What a handler knows about the call it is serving. */
export interface InvocationContext {
  /** The W3C trace id (32 hex digits) shared by every call in this chain. */
  traceId: string
  /** The W3C `traceparent` header of this call; calls made from the handler carry it on. */
  traceparent: string
  /** W3C baggage, passed on unchanged, when the call had some. */
  baggage?: string
  /** Set when a trigger caused the call (`{type, id, path?, method?, topic?, ...}`). */
  trigger?: TriggerMeta
  /** The function being run. */
  functionPath: string
  /** The engine's id for this call; absent for fire-and-forget calls. */
  invocationId?: string
  /** Logs with this call's trace id and function path. */
  logger: Logger
}

const storage = new AsyncLocalStorage<InvocationContext>()

/** The context of the handler that is running, or `undefined` outside of any handler. */
export function getContext(): InvocationContext | undefined {
  return storage.getStore()
}

/** Runs `fn` with `ctx` as the current context. */
export function runWithContext<T>(ctx: InvocationContext, fn: () => T): T {
  return storage.run(ctx, fn)
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/

// Random bytes for ids come from a pool refilled 4 KiB at a time: one system call per 170
// traces instead of two per trace (a visible cost on a worker serving many requests).
const pool = Buffer.alloc(4096)
let poolOffset = pool.length

function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes)
  poolOffset += bytes
  return hex
}

/** Starts a new W3C trace: `00-<32 hex trace id>-<16 hex span id>-01`. */
export function newTraceparent(): string {
  return `00-${randomHex(16)}-${randomHex(8)}-01`
}

/** The span id of a `traceparent` (its third field), or `undefined` when it is not a valid one. */
export function spanIdOf(traceparent: string | undefined): string | undefined {
  if (traceIdOf(traceparent) === undefined) return undefined
  return (traceparent as string).split('-')[2]
}

/** The trace id of a `traceparent`, or `undefined` when it is not a valid one. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  if (traceparent === undefined) return undefined
  const m = TRACEPARENT.exec(traceparent)
  if (m === null || /^0+$/.test(m[1])) return undefined
  return m[1]
}
