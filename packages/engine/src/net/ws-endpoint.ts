/**
 * One WebSocket endpoint: an HTTP server that only upgrades (plain requests get a JSON 426),
 * a `WebSocketServer`, a heartbeat that terminates peers which stop answering pings, and a
 * bad-frame budget per connection. The worker bridge and the stream socket each run one, so
 * both edges share the same timeouts and the same way of closing abusive sockets.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { type RawData, type WebSocket, WebSocketServer } from 'ws'
import { hostForUrl, listen, slowClientTimeouts } from './listen.js'

/** How long a client may take to send its upgrade request, by default (`header_timeout_ms`). */
export const HEADER_TIMEOUT_MS = 10_000
/** How long `stop` waits for peers to finish the closing handshake before terminating them. */
const CLOSE_GRACE_MS = 1000
/** The bad-frame budget is per connection and per window of this length. */
export const BAD_FRAME_WINDOW_MS = 60_000
/** The frame-rate budget is counted in slices of this length. */
const RATE_SLICE_MS = 100

/** What the endpoint's owner does with one connection. */
export interface PeerHandler {
  /** A frame arrived (the peer is marked alive first). */
  message(data: RawData, isBinary: boolean): void
  /** The connection is gone, for whatever reason; called once. */
  close(): void
  /** A socket error; the connection closes after it. */
  error?(err: Error): void
  /** The heartbeat found the peer silent; it has been terminated (`close` follows). */
  missed?(): void
  /** The peer has not answered a ping within {@link lateAfterMs} (it may still answer). */
  late?(): void
  /** A peer that was {@link late} sent a pong or a frame. */
  answered?(): void
}

/**
 * How long after a heartbeat ping a silent peer counts as late: a quarter of the heartbeat,
 * between 20 ms and 2 s. A healthy peer answers in milliseconds.
 */
export function lateAfterMs(heartbeatMs: number): number {
  return Math.min(2000, Math.max(20, Math.floor(heartbeatMs / 4)))
}

export interface WsEndpointOptions {
  /** The endpoint's name in listen errors: "port 3112 (streams) is already in use". */
  name: string
  host: string
  port: number
  /** Largest frame accepted; a bigger one closes the socket with 1009. */
  maxPayload: number
  /** Pings every this often; a peer that did not answer the previous ping is terminated. */
  heartbeatMs: number
  /**
   * Bad frames in one {@link BAD_FRAME_WINDOW_MS} window (see {@link WsPeer.badFrame}) after
   * which the socket is closed with 1008; good frames in between do not reset the count.
   */
  maxBadFrames: number
  /** Frames per second one connection may send (0: no limit); see {@link WsPeer.receive}. */
  maxFramesPerSecond?: number
  /** A socket that has not sent its complete upgrade request after this long is closed (R19). */
  headerTimeoutMs?: number
  /** What a plain HTTP request is told, in the 426 answer's `message`. */
  upgradeMessage: string
  /**
   * Decides on an upgrade before it completes: resolve `{context}` to accept (the context is
   * handed to {@link connected}), `undefined` to refuse with 401. Without it every upgrade
   * is accepted.
   */
  admit?(req: IncomingMessage): Promise<{ context: unknown } | undefined>
  /** A connection is open: return what handles its frames. */
  connected(peer: WsPeer, context: unknown, req: IncomingMessage): PeerHandler
}

/** One open connection of an endpoint. */
export class WsPeer {
  /** Answered (a pong or any frame) since the last ping. */
  alive = true
  /** Told its handler it is {@link PeerHandler.late}; cleared by its next pong or frame. */
  late = false
  private bad = 0
  private badSince = Date.now()
  private frames = 0
  private sliceStart = 0
  /** Frames read past the budget, handled in the next slices; null when within it. */
  private waiting: Array<[RawData, boolean]> | null = null
  private readonly perSlice: number

  constructor(
    readonly ws: WebSocket,
    private readonly maxBadFrames: number,
    maxFramesPerSecond = 0,
  ) {
    this.perSlice = maxFramesPerSecond > 0 ? Math.max(1, Math.ceil((maxFramesPerSecond * RATE_SLICE_MS) / 1000)) : 0
  }

  /**
   * Counts one bad frame. The `maxBadFrames`-th of a {@link BAD_FRAME_WINDOW_MS} window closes
   * the socket with 1008 and returns true (valid frames in between do not reset the count).
   */
  badFrame(): boolean {
    const now = Date.now()
    if (now - this.badSince >= BAD_FRAME_WINDOW_MS) {
      this.badSince = now
      this.bad = 0
    }
    if (++this.bad < this.maxBadFrames) return false
    this.ws.close(1008, 'too many bad frames')
    return true
  }

  /**
   * Hands one frame to `handle` within the rate budget: past `maxFramesPerSecond / 10`
   * frames in a 100 ms slice the socket is not read until the slice ends, and the frames
   * already read wait (in order) for the next slices. The clock is read only once a slice's
   * budget is used up.
   */
  receive(data: RawData, isBinary: boolean, handle: (data: RawData, isBinary: boolean) => void): void {
    if (this.waiting !== null) {
      this.waiting.push([data, isBinary])
      return
    }
    if (this.perSlice === 0 || ++this.frames <= this.perSlice) return handle(data, isBinary)
    const now = performance.now()
    const elapsed = now - this.sliceStart
    if (elapsed >= RATE_SLICE_MS) {
      this.sliceStart = now
      this.frames = 1
      return handle(data, isBinary)
    }
    this.waiting = [[data, isBinary]]
    this.ws.pause()
    setTimeout(() => this.nextSlice(handle), RATE_SLICE_MS - elapsed).unref()
  }

  private nextSlice(handle: (data: RawData, isBinary: boolean) => void): void {
    const waiting = this.waiting
    if (waiting === null) return
    this.sliceStart = performance.now()
    const now = waiting.splice(0, this.perSlice)
    this.frames = now.length
    if (waiting.length === 0) this.waiting = null
    for (const [data, isBinary] of now) {
      if (this.ws.readyState !== this.ws.OPEN) break
      handle(data, isBinary)
    }
    if (this.waiting === null) this.ws.resume()
    else setTimeout(() => this.nextSlice(handle), RATE_SLICE_MS).unref()
  }
}

export class WsEndpoint {
  private http: Server | null = null
  private wss: WebSocketServer | null = null
  private heartbeat: NodeJS.Timeout | undefined
  private lateCheck: NodeJS.Timeout | undefined
  private readonly peers = new Map<WsPeer, PeerHandler>()
  private address = ''
  /** Set by {@link drain}: no new connections; the open ones go on until {@link stop}. */
  private draining = false

  constructor(private readonly options: WsEndpointOptions) {}

  /** Listens; resolves with the endpoint's URL (`ws://host:port`, the real port). */
  async start(): Promise<string> {
    const o = this.options
    const timeouts = slowClientTimeouts(o.headerTimeoutMs ?? HEADER_TIMEOUT_MS)
    const http = createServer({ ...timeouts, requestTimeout: timeouts.headersTimeout })
    const body = JSON.stringify({ error: 'upgrade_required', message: o.upgradeMessage })
    http.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'application/json', upgrade: 'websocket', connection: 'close' })
      res.end(body)
    })
    const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxPayload, perMessageDeflate: false })
    http.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head))
    this.http = http
    this.wss = wss
    const addr = await listen(http, o.port, o.host, o.name)
    this.address = `ws://${hostForUrl(o.host)}:${addr.port}`
    this.heartbeat = setInterval(() => this.beat(), o.heartbeatMs)
    this.heartbeat.unref()
    return this.address
  }

  /** `ws://host:port`, or '' before {@link start}. */
  url(): string {
    return this.address
  }

  /**
   * Stops accepting connections (the port closes; an upgrade on a socket already open gets
   * 503) while the open connections go on. {@link stop} closes them.
   */
  drain(): void {
    if (this.draining || this.http === null) return
    this.draining = true
    this.http.close()
    this.http.closeIdleConnections()
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy())
    if (this.draining) {
      socket.end(
        'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n{"error":"shutting_down"}',
      )
      return
    }
    const admit = this.options.admit
    if (admit === undefined) return this.complete(req, socket, head, undefined)
    admit(req).then(
      (auth) => {
        if (auth === undefined) return refuse(socket)
        this.complete(req, socket, head, auth.context)
      },
      () => refuse(socket),
    )
  }

  private complete(req: IncomingMessage, socket: Duplex, head: Buffer, context: unknown): void {
    const wss = this.wss
    if (socket.destroyed || wss === null) return void socket.destroy()
    wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, context, req))
  }

  private accept(ws: WebSocket, context: unknown, req: IncomingMessage): void {
    const peer = new WsPeer(ws, this.options.maxBadFrames, this.options.maxFramesPerSecond)
    const handler = this.options.connected(peer, context, req)
    const deliver = (data: RawData, isBinary: boolean) => handler.message(data, isBinary)
    this.peers.set(peer, handler)
    const answered = () => {
      peer.alive = true
      if (peer.late) {
        peer.late = false
        handler.answered?.()
      }
    }
    ws.on('pong', answered)
    ws.on('message', (data, isBinary) => {
      answered()
      peer.receive(data, isBinary, deliver)
    })
    ws.on('close', () => {
      this.peers.delete(peer)
      handler.close()
    })
    ws.on('error', (err) => handler.error?.(err))
  }

  private beat(): void {
    for (const [peer, handler] of this.peers) {
      if (!peer.alive) {
        this.peers.delete(peer)
        peer.ws.terminate()
        handler.missed?.()
        continue
      }
      peer.alive = false
      peer.ws.ping()
    }
    clearTimeout(this.lateCheck)
    this.lateCheck = setTimeout(() => this.markLate(), lateAfterMs(this.options.heartbeatMs))
    this.lateCheck.unref()
  }

  /** Peers that have not answered this beat's ping yet are late (routed around). */
  private markLate(): void {
    for (const [peer, handler] of this.peers) {
      if (peer.alive || peer.late) continue
      peer.late = true
      handler.late?.()
    }
  }

  /**
   * Closes every connection with 1001 and `reason`, terminates the ones still open after a
   * short grace, and stops listening. Safe to call twice.
   */
  async stop(reason: string): Promise<void> {
    clearInterval(this.heartbeat)
    clearTimeout(this.lateCheck)
    const wss = this.wss
    const http = this.http
    this.wss = null
    this.http = null
    if (wss === null || http === null) return
    for (const ws of wss.clients) ws.close(1001, reason)
    if (wss.clients.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_GRACE_MS)
        timer.unref()
        wss.close(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    } else wss.close()
    for (const ws of wss.clients) ws.terminate()
    await new Promise<void>((resolve) => {
      if (this.draining) resolve()
      else http.close(() => resolve())
      http.closeAllConnections()
    })
  }
}

function refuse(socket: Duplex): void {
  if (socket.destroyed) return
  socket.end(
    'HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r\n{"error":"unauthorized"}',
  )
}
