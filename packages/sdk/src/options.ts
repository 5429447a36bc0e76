/**
 * The options of a bridge: one object, the defaults in one place ({@link DEFAULTS}), validated
 * once when the bridge is built. A bad option throws an `IIIError` with code `invalid_argument`
 * whose message names the option.
 */
import { ErrorCode, IIIError } from './errors.js'
import { defaultLogFormat, defaultLogLevel, type LogFormat, type LogLevel } from './logger.js'

/** The engine address used when neither an URL nor `III_BRIDGE_URL` is given. */
export const DEFAULT_BRIDGE_URL = 'ws://127.0.0.1:49134'

/** Options of a bridge. Every field is optional; the defaults are in {@link DEFAULTS}. */
export interface BridgeOptions {
  /** Engine address; default `III_BRIDGE_URL`, else `ws://127.0.0.1:49134`. */
  url?: string
  /** A name for this worker, shown by `engine.workers.list`; default `III_WORKER_NAME`. */
  workerName?: string
  /**
   * Bearer token for the engine's worker authentication, sent in the handshake as
   * `Authorization: Bearer <token>`; default `III_TOKEN`. Never logged.
   */
  token?: string
  /** Default timeout of `invokeFunction`, in ms (sent to the engine as `timeout_ms`). Default 30000. */
  invocationTimeoutMs?: number
  /** First reconnect delay cap in ms; doubles per failed attempt. Default 100. */
  reconnectInitialDelayMs?: number
  /** Largest reconnect delay cap in ms. Default 5000. */
  reconnectMaxDelayMs?: number
  /**
   * How long `connect()` keeps trying before it rejects with `connection_failed` (and stops
   * trying), in ms, like Python's `connect_timeout`. 0 (the default) keeps trying for as long as
   * it takes. One attempt's handshake is given at most 10 s, or this, whichever is shorter.
   */
  connectTimeoutMs?: number
  /** WebSocket ping interval for detecting a dead engine, in ms; 0 turns it off. Default 20000. */
  pingIntervalMs?: number
  /** Most frames kept while the socket is closed; more reject with `queue_full`. Default 10000. */
  maxQueuedMessages?: number
  /** Also send handler logs to the engine's `logger.log`. Default true. */
  forwardLogs?: boolean
  /** Lowest level written locally (and forwarded). Default `III_LOG_LEVEL`, else `info`. */
  logLevel?: LogLevel | 'silent'
  /** Local lines as `text` or one JSON object each (`json`). Default `III_LOG_FORMAT`, else `text`. */
  logFormat?: LogFormat
  /**
   * On SIGTERM or SIGINT, shut down gracefully ({@link Bridge.shutdown}): take no new calls,
   * let running handlers finish, disconnect, then let the signal end the process. Default true.
   */
  shutdownOnSignal?: boolean
  /** How long a graceful shutdown waits for running handlers, in ms. Default 10000. */
  shutdownGraceMs?: number
}

/** Every default of {@link BridgeOptions} (the environment-dependent ones are read at build time). */
export const DEFAULTS = {
  invocationTimeoutMs: 30_000,
  reconnectInitialDelayMs: 100,
  reconnectMaxDelayMs: 5_000,
  connectTimeoutMs: 0,
  /** The longest handshake of one connection attempt. */
  handshakeTimeoutMs: 10_000,
  pingIntervalMs: 20_000,
  maxQueuedMessages: 10_000,
  forwardLogs: true,
  shutdownOnSignal: true,
  shutdownGraceMs: 10_000,
} as const

/** The options after defaults and validation: what the parts of a bridge read. */
export interface ResolvedOptions {
  url: string
  workerName: string | undefined
  token: string | undefined
  invocationTimeoutMs: number
  reconnectInitialDelayMs: number
  reconnectMaxDelayMs: number
  connectTimeoutMs: number
  handshakeTimeoutMs: number
  pingIntervalMs: number
  maxQueuedMessages: number
  forwardLogs: boolean
  logLevel: LogLevel | 'silent'
  logFormat: LogFormat
  shutdownOnSignal: boolean
  shutdownGraceMs: number
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent']
const KNOWN = new Set<string>([
  'url',
  'workerName',
  'token',
  'logLevel',
  'logFormat',
  'forwardLogs',
  'invocationTimeoutMs',
  'reconnectInitialDelayMs',
  'reconnectMaxDelayMs',
  'connectTimeoutMs',
  'pingIntervalMs',
  'maxQueuedMessages',
  'shutdownOnSignal',
  'shutdownGraceMs',
])

function bad(message: string): IIIError {
  return new IIIError(ErrorCode.InvalidArgument, message)
}

function number(name: string, value: unknown, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback
  // at most what a Node timer takes (a longer delay fires at once)
  if (typeof value !== 'number' || !(value >= 0) || value > 2 ** 31 - 1 || (!allowZero && value === 0)) {
    throw bad(
      `option ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number up to 2147483647, got ${String(value)}`,
    )
  }
  return value
}

function text(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) throw bad(`option ${name} must be a non-empty string`)
  return value
}

/**
 * Resolves `new Bridge(url?, options?)` / `createBridge(options)` arguments into one validated
 * options object. Throws `invalid_argument` naming the first bad or unknown option.
 */
export function resolveOptions(url?: string | BridgeOptions, options: BridgeOptions = {}): ResolvedOptions {
  const o: BridgeOptions = typeof url === 'object' && url !== null ? url : { ...options, url: url ?? options.url }
  if (typeof o !== 'object' || o === null) throw bad('the bridge options must be an object')
  for (const key of Object.keys(o)) if (!KNOWN.has(key)) throw bad(`unknown bridge option ${key}`)
  const resolvedUrl = text('url', o.url) ?? process.env.III_BRIDGE_URL ?? DEFAULT_BRIDGE_URL
  if (!/^wss?:\/\/./.test(resolvedUrl)) throw bad('the bridge url must start with ws:// or wss://')
  const logLevel = o.logLevel ?? defaultLogLevel()
  if (!LEVELS.includes(logLevel)) {
    throw bad(`option logLevel must be debug, info, warn, error or silent, got ${String(logLevel)}`)
  }
  const logFormat = o.logFormat ?? defaultLogFormat()
  if (logFormat !== 'text' && logFormat !== 'json') {
    throw bad(`option logFormat must be text or json, got ${String(logFormat)}`)
  }
  if (o.forwardLogs !== undefined && typeof o.forwardLogs !== 'boolean')
    throw bad('option forwardLogs must be a boolean')
  if (o.shutdownOnSignal !== undefined && typeof o.shutdownOnSignal !== 'boolean')
    throw bad('option shutdownOnSignal must be a boolean')
  const connectTimeoutMs = number('connectTimeoutMs', o.connectTimeoutMs, DEFAULTS.connectTimeoutMs, true)
  const resolved: ResolvedOptions = {
    url: resolvedUrl,
    workerName: text('workerName', o.workerName) ?? (process.env.III_WORKER_NAME || undefined),
    token: text('token', o.token) ?? (process.env.III_TOKEN || undefined),
    invocationTimeoutMs: number('invocationTimeoutMs', o.invocationTimeoutMs, DEFAULTS.invocationTimeoutMs, false),
    reconnectInitialDelayMs: number(
      'reconnectInitialDelayMs',
      o.reconnectInitialDelayMs,
      DEFAULTS.reconnectInitialDelayMs,
      false,
    ),
    reconnectMaxDelayMs: number('reconnectMaxDelayMs', o.reconnectMaxDelayMs, DEFAULTS.reconnectMaxDelayMs, false),
    connectTimeoutMs,
    handshakeTimeoutMs:
      connectTimeoutMs > 0 ? Math.min(connectTimeoutMs, DEFAULTS.handshakeTimeoutMs) : DEFAULTS.handshakeTimeoutMs,
    pingIntervalMs: number('pingIntervalMs', o.pingIntervalMs, DEFAULTS.pingIntervalMs, true),
    maxQueuedMessages: number('maxQueuedMessages', o.maxQueuedMessages, DEFAULTS.maxQueuedMessages, false),
    forwardLogs: o.forwardLogs ?? DEFAULTS.forwardLogs,
    logLevel,
    logFormat,
    shutdownOnSignal: o.shutdownOnSignal ?? DEFAULTS.shutdownOnSignal,
    shutdownGraceMs: number('shutdownGraceMs', o.shutdownGraceMs, DEFAULTS.shutdownGraceMs, true),
  }
  if (resolved.reconnectMaxDelayMs < resolved.reconnectInitialDelayMs) {
    throw bad('option reconnectMaxDelayMs must not be smaller than reconnectInitialDelayMs')
  }
  return resolved
}
