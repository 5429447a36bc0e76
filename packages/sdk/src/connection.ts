/**
 * The connection: the one place in the SDK where frames become text and text becomes frames.
 * It wraps the {@link ReconnectingSocket} (reconnect with backoff, pings, per-turn write
 * batching) and adds what needs frames: the replay of the registrations first on every open,
 * then the frames queued while the socket was closed; answering pings; `connect()` waits with
 * an optional deadline.
 */
import { ErrorCode, IIIError } from './errors.js'
import type { Logger } from './logger.js'
import type { ResolvedOptions } from './options.js'
import { decodeFrame, encodeFrame, type Frame } from './protocol.js'
import { ReconnectingSocket } from './transport.js'

/** What the connection tells its owner. */
export interface ConnectionHandlers {
  /** The registration frames to send first, in order, each time the socket opens. */
  replay(): Frame[]
  /** The socket opened; the replay and the queued frames are sent. */
  opened(): void
  /** A valid frame from the engine (invalid ones are logged and dropped here). */
  received(frame: Frame): void
  /** The socket, which had been open, closed; a reconnect is scheduled unless closing. */
  closed(): void
  /** `connect()` ran out of `connectTimeoutMs`: the connection stopped trying. */
  failed(err: IIIError): void
}

/** A frame waiting in the queue for the socket to open. */
export interface Queued {
  readonly text: string
  /** Called when the frame leaves the queue for the socket. */
  readonly onSent?: () => void
}

export class Connection {
  /** Counts socket openings, so work begun on an earlier socket can tell it is stale. */
  generation = 0
  private readonly socket: ReconnectingSocket
  private readonly queue = new Set<Queued>()
  private waiters: Array<{ resolve(): void; reject(err: Error): void }> = []
  private deadline: NodeJS.Timeout | undefined
  private closedByUser = false
  private pongs: Array<(answered: boolean) => void> = []

  constructor(
    private readonly options: ResolvedOptions,
    private readonly log: Logger,
    private readonly handlers: ConnectionHandlers,
  ) {
    this.socket = new ReconnectingSocket(
      {
        url: options.url,
        headers: options.token === undefined ? undefined : { Authorization: `Bearer ${options.token}` },
        initialDelayMs: options.reconnectInitialDelayMs,
        maxDelayMs: options.reconnectMaxDelayMs,
        pingIntervalMs: options.pingIntervalMs,
        handshakeTimeoutMs: options.handshakeTimeoutMs,
        log,
      },
      {
        onOpen: () => this.onOpen(),
        onClose: () => {
          for (const done of this.pongs.splice(0)) done(false)
          this.handlers.closed()
        },
        onMessage: (t) => this.onMessage(t),
        onRefused: (status) => this.refused(status),
      },
    )
  }

  /** True while the socket is open. */
  get isOpen(): boolean {
    return this.socket.isOpen
  }

  /** True once connecting began, until `close()` or a `connect()` that ran out of time. */
  get isStarted(): boolean {
    return this.socket.isStarted
  }

  /** True after `close()` and before the next `connect()`. */
  get isClosed(): boolean {
    return this.closedByUser
  }

  /** Frames waiting for the socket. */
  get queued(): number {
    return this.queue.size
  }

  /**
   * Resolves once the socket is open. A call that starts connecting arms the deadline
   * (`connectTimeoutMs`, when set); a call made while already connecting or reconnecting
   * joins the same wait.
   */
  connect(): Promise<void> {
    this.closedByUser = false
    if (this.socket.isOpen) return Promise.resolve()
    const wait = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }))
    if (!this.socket.isStarted) {
      this.socket.start()
      if (this.options.connectTimeoutMs > 0) {
        this.deadline = setTimeout(() => void this.giveUp(), this.options.connectTimeoutMs)
      }
    }
    return wait
  }

  /** Closes the socket and stops reconnecting; waiters reject with `bridge_closed`, the queue is emptied. */
  async close(): Promise<void> {
    this.closedByUser = true
    this.stopWaiting(new IIIError(ErrorCode.BridgeClosed, 'the bridge was closed'))
    this.queue.clear()
    await this.socket.stop()
  }

  /**
   * Encodes `frame` and sends it if the socket is open; returns false (sending nothing) if not.
   * For frames that must not wait for a reconnect: registrations (the replay covers them),
   * answers to the engine (it has failed those calls already when the socket drops).
   * Throws `invalid_argument` when the frame holds something JSON cannot carry.
   */
  send(frame: Frame): boolean {
    return this.socket.send(encode(frame))
  }

  /**
   * A `ping`/`pong` round trip: resolves true once the engine has read every frame sent
   * before it (and sent everything it routed here before that), false when the socket is
   * closed, closes meanwhile, or `timeoutMs` passes.
   */
  flush(timeoutMs: number): Promise<boolean> {
    if (!this.send({ type: 'ping' })) return Promise.resolve(false)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pongs = this.pongs.filter((p) => p !== done)
        resolve(false)
      }, timeoutMs)
      const done = (answered: boolean) => {
        clearTimeout(timer)
        resolve(answered)
      }
      this.pongs.push(done)
    })
  }

  /**
   * Encodes `frame` and sends it now, or queues it until the socket opens. Returns the queue
   * entry (to {@link unqueue} it), or undefined when it was sent at once. Throws
   * `invalid_argument` when the frame is not JSON, `queue_full` when `limit` frames wait already.
   */
  post(frame: Frame, onSent?: () => void, limit = this.options.maxQueuedMessages): Queued | undefined {
    const text = encode(frame)
    if (this.socket.send(text)) {
      onSent?.()
      return undefined
    }
    if (this.queue.size >= limit) {
      throw new IIIError(ErrorCode.QueueFull, `${this.queue.size} frames are already waiting for the connection`)
    }
    const entry: Queued = { text, onSent }
    this.queue.add(entry)
    return entry
  }

  /** Takes a frame out of the queue (a call that timed out before it was sent). */
  unqueue(entry: Queued | undefined): void {
    if (entry !== undefined) this.queue.delete(entry)
  }

  private onOpen(): void {
    this.generation++
    clearTimeout(this.deadline)
    const frames = this.handlers.replay()
    for (const frame of frames) {
      try {
        this.socket.send(encode(frame))
      } catch (err) {
        // checked when registered; only a value changed since then can fail here
        this.log.error(`could not replay a ${frame.type}: ${(err as Error).message}`)
      }
    }
    const queued = [...this.queue]
    this.queue.clear()
    for (const entry of queued) {
      this.socket.send(entry.text)
      entry.onSent?.()
    }
    this.log.debug(`registered ${frames.length} item(s) and sent ${queued.length} queued frame(s)`)
    this.stopWaiting()
    this.handlers.opened()
  }

  private onMessage(text: string): void {
    let frame: Frame
    try {
      frame = decodeFrame(text)
    } catch (err) {
      this.log.debug(`ignored a bad frame from the engine: ${(err as Error).message}`)
      return
    }
    if (frame.type === 'ping') this.socket.send(encodeFrame({ type: 'pong' }))
    else if (frame.type === 'pong') this.pongs.shift()?.(true)
    else this.handlers.received(frame)
  }

  /** 401/403 at the upgrade: `connect()` and waiting calls fail with `connection_failed` at once. */
  private refused(status: number): void {
    const why =
      this.options.token === undefined
        ? 'no token was given (set the token option or III_TOKEN)'
        : 'the token was not accepted (check the token option or III_TOKEN)'
    const err = new IIIError(
      ErrorCode.ConnectionFailed,
      `the engine refused this worker with HTTP ${status}: ${why}; not retrying`,
    )
    this.log.error(err.message)
    this.stopWaiting(err)
    this.queue.clear()
    this.handlers.failed(err)
  }

  private async giveUp(): Promise<void> {
    this.deadline = undefined
    if (this.socket.isOpen || !this.socket.isStarted) return
    const err = new IIIError(
      ErrorCode.ConnectionFailed,
      `could not connect to the engine within ${this.options.connectTimeoutMs} ms`,
    )
    this.stopWaiting(err)
    this.queue.clear()
    this.handlers.failed(err)
    await this.socket.stop()
  }

  private stopWaiting(err?: Error): void {
    clearTimeout(this.deadline)
    this.deadline = undefined
    for (const w of this.waiters.splice(0)) {
      if (err === undefined) w.resolve()
      else w.reject(err)
    }
  }
}

function encode(frame: Frame): string {
  try {
    return encodeFrame(frame)
  } catch (err) {
    throw new IIIError(ErrorCode.InvalidArgument, `the frame is not JSON: ${(err as Error).message}`)
  }
}
