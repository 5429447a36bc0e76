/**
 * The socket under the bridge: one WebSocket to the engine that reopens itself after it drops,
 * with exponential backoff and equal jitter, and that detects a half-open connection with
 * WebSocket pings. It knows nothing about frames: `connection.ts` gives it text and gets text
 * back.
 */
import type { Socket } from 'node:net'
import WebSocket from 'ws'
import { type Logger, redactUrl } from './logger.js'

export interface TransportOptions {
  url: string
  /** Extra handshake headers (e.g. `Authorization`). Never logged. */
  headers?: Record<string, string>
  /** First reconnect delay cap; doubles per failed attempt up to `maxDelayMs`. */
  initialDelayMs: number
  maxDelayMs: number
  /** How often to ping the engine; a ping still unanswered at the next tick drops the socket. 0 = off. */
  pingIntervalMs: number
  /** Handshake timeout for one attempt. */
  handshakeTimeoutMs: number
  log: Logger
}

/** What the transport reports to its owner. */
export interface TransportHandlers {
  onOpen(): void
  /** The socket closed (it had been open); a reconnect is already scheduled unless stopped. */
  onClose(): void
  onMessage(text: string): void
  /**
   * The engine answered the upgrade with 401 or 403 (worker authentication): trying again
   * cannot help, so the transport has stopped.
   */
  onRefused(status: number): void
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first retry): exponential with equal
 * jitter, uniformly random in [cap / 2, cap] where cap = min(max, initial * 2^attempt). Half of
 * it is fixed, so a crowd of workers never retries at once at 0 ms; half is random, so it
 * spreads out. The same rule as the Python SDK (protocol/sdk-cases.json, `backoff`).
 */
export function backoffDelay(attempt: number, initialDelayMs: number, maxDelayMs: number): number {
  const cap = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(Math.max(attempt, 0), 30))
  return cap / 2 + Math.random() * (cap / 2)
}

export class ReconnectingSocket {
  private ws: WebSocket | undefined
  private started = false
  private stopped = false
  private attempt = 0
  private retryTimer: NodeJS.Timeout | undefined
  private pingTimer: NodeJS.Timeout | undefined
  private alive = false

  constructor(
    private readonly options: TransportOptions,
    private readonly handlers: TransportHandlers,
  ) {}

  /** True once `start()` was called and `stop()` has not been. */
  get isStarted(): boolean {
    return this.started && !this.stopped
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN
  }

  /** Starts connecting (once); later calls do nothing until `stop()`. */
  start(): void {
    if (this.started && !this.stopped) return
    this.started = true
    this.stopped = false
    this.attempt = 0
    this.open()
  }

  /** Sends one text frame; false when the socket is not open. */
  send(text: string): boolean {
    const ws = this.ws
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) return false
    batchWrites(ws)
    ws.send(text)
    return true
  }

  /** Closes the socket and stops reconnecting. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    this.stopPing()
    const ws = this.ws
    this.ws = undefined
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => ws.terminate(), 2000)
      ws.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate()
      else ws.close(1000)
    })
  }

  private open(): void {
    const { url, headers, handshakeTimeoutMs, log } = this.options
    log.debug(`connecting to ${redactUrl(url)}`)
    let ws: WebSocket
    try {
      ws = new WebSocket(url, { headers, handshakeTimeout: handshakeTimeoutMs })
    } catch (err) {
      // a malformed URL throws synchronously; treat it like a failed attempt
      this.scheduleRetry((err as Error).message)
      return
    }
    this.ws = ws
    let opened = false
    let failure = ''
    ws.on('open', () => {
      if (this.ws !== ws) return
      opened = true
      this.attempt = 0
      this.alive = true
      this.startPing(ws)
      log.debug(`connected to ${redactUrl(url)}`)
      this.handlers.onOpen()
    })
    ws.on('message', (data, isBinary) => {
      if (this.ws !== ws) return
      this.alive = true
      if (isBinary) {
        log.debug('ignored a binary frame from the engine')
        return
      }
      this.handlers.onMessage(data.toString())
    })
    ws.on('pong', () => {
      this.alive = true
    })
    let refused = 0
    ws.on('error', (err) => {
      failure = err.message
      const status = /^Unexpected server response: (40[13])$/.exec(err.message)
      if (status !== null) refused = Number(status[1])
    })
    ws.on('close', (code) => {
      if (this.ws !== ws) return
      this.ws = undefined
      this.stopPing()
      if (opened) {
        // 1001 (going away) and 1012 (restart): the engine announced it; a warning is for a
        // connection that dropped without a word.
        const announced = code === 1001 || code === 1012
        log[announced ? 'debug' : 'warn'](`connection to ${redactUrl(url)} closed (code ${code}); reconnecting`)
        this.handlers.onClose()
      }
      if (refused !== 0 && !this.stopped) {
        this.stopped = true
        this.handlers.onRefused(refused)
        return
      }
      if (!this.stopped) this.scheduleRetry(failure || `closed with code ${code}`, opened)
    })
  }

  private scheduleRetry(reason: string, wasOpen = false): void {
    if (this.stopped) return
    const delay = backoffDelay(this.attempt, this.options.initialDelayMs, this.options.maxDelayMs)
    if (!wasOpen) {
      // one line per failed attempt: the first of a streak (and every 20th) loud, the rest quiet
      const level = this.attempt % 20 === 0 ? 'warn' : 'debug'
      this.options.log.log(
        level,
        `cannot connect to ${redactUrl(this.options.url)} (${redactUrl(reason)}); attempt ${this.attempt + 1}, retrying in ${Math.round(delay)} ms`,
      )
    }
    this.attempt++
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      if (!this.stopped) this.open()
    }, delay)
  }

  private startPing(ws: WebSocket): void {
    const every = this.options.pingIntervalMs
    if (every <= 0) return
    this.pingTimer = setInterval(() => {
      if (!this.alive) {
        this.options.log.warn('the engine did not answer a ping; dropping the connection')
        ws.terminate()
        return
      }
      this.alive = false
      ws.ping()
    }, every)
    this.pingTimer.unref()
  }

  private stopPing(): void {
    clearInterval(this.pingTimer)
    this.pingTimer = undefined
  }
}

/**
 * Most frames one batch of writes holds. A burst still leaves in few system calls, and the
 * engine starts on its first frames while this process is producing the rest: B2 at 32 calls
 * in flight does about 20% more calls/s than with one batch per turn.
 */
const BATCH_FRAMES = 8
const batched = Symbol('iii.batched')
type BatchedSocket = Socket & { [batched]?: number }

/**
 * Holds the socket's writes until the end of the current event-loop turn, or until
 * {@link BATCH_FRAMES} wait, so the frames sent in one turn (a burst of calls, a registration
 * replay, answers of async handlers) leave in few system calls. Released by `setImmediate`,
 * after this turn's promise continuations.
 */
function batchWrites(ws: WebSocket): void {
  const raw = (ws as unknown as { _socket?: BatchedSocket })._socket
  if (raw === undefined) return
  if (raw.writableCorked === 0) {
    raw.cork()
    raw[batched] = 1
    setImmediate(uncork, raw)
  } else if ((raw[batched] = (raw[batched] ?? 0) + 1) > BATCH_FRAMES) {
    // Out go the frames held so far; this one starts the next batch (the pending uncork ends it).
    raw.uncork()
    raw.cork()
    raw[batched] = 1
  }
}

function uncork(socket: Socket): void {
  socket.uncork()
}
