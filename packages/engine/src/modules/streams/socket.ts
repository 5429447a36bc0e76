/**
 * The stream socket server: browsers and apps connect, join streams, get a `sync` and then
 * every change. The network edge of the streams module; the module supplies the decisions
 * (auth, join checks, snapshots) through {@link SocketHooks}.
 *
 * Flow control (RELIABILITY R18): each client has its own outbound queue, capped at
 * `maxQueue` messages not yet written to the kernel and {@link MAX_BUFFERED_BYTES} bytes; a
 * client over the cap, or one whose queue made no progress for `slowClientMs`, is terminated.
 * Nothing one client does slows the others: a push is serialized once and handed to each
 * socket without waiting.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { type WebSocket, WebSocketServer } from 'ws'
import { listen } from '../../net.js'
import { encodeServerMessage, type JoinData, parseClientMessage, type ServerEvent } from './messages.js'

/** A client's outbound bytes not yet written to the kernel, above which it is dropped. */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024
/** Subscriptions one connection may hold at once. */
export const MAX_SUBSCRIPTIONS = 1000
/** Largest frame a client may send (joins are small). */
const MAX_CLIENT_FRAME = 64 * 1024
/** Bad frames tolerated on one connection before it is closed. */
const MAX_BAD_FRAMES = 100
const HEARTBEAT_MS = 15_000

/** What the client sent when it connected, as the auth function receives it. */
export interface ConnectInfo {
  headers: Record<string, string | string[] | undefined>
  path: string
  query_params: Record<string, string>
  addr: string
}

export interface Subscription extends JoinData {
  client: Client
  /** Messages held back until the subscription's `sync` went out; null once it did. */
  pending: string[] | null
  /** Set once the join was allowed and the subscription is in the index. */
  joined: boolean
}

/** The decisions the streams module makes for the socket. */
export interface SocketHooks {
  /** Resolves with the connection's context, or `undefined` to refuse. Must not take > 5 s. */
  authenticate(info: ConnectInfo): Promise<{ context: unknown } | undefined>
  /** Resolves true when `sub` may join. */
  authorizeJoin(sub: Subscription, context: unknown): Promise<boolean>
  /** The current item (or group's items) for a `sync`. */
  snapshot(sub: Subscription): Promise<unknown>
  /** A joined subscription ended (leave, or its connection closed). */
  left(sub: Subscription, context: unknown): void
}

export interface StreamSocketOptions {
  host: string
  port: number
  maxQueue: number
  slowClientMs: number
  log: { warn(m: string, f?: Record<string, unknown>): void; debug(m: string, f?: Record<string, unknown>): void }
}

export class Client {
  readonly subs = new Map<string, Subscription>()
  /** Writes handed to the socket whose callback has not run yet. */
  queued = 0
  /** When the queue last made progress (or started filling); 0 while it is empty. */
  stalledSince = 0
  badFrames = 0
  alive = true
  closed = false

  constructor(
    readonly ws: WebSocket,
    readonly context: unknown,
    private readonly server: StreamSocketServer,
  ) {}

  private readonly written = () => {
    this.queued--
    this.stalledSince = this.queued > 0 ? Date.now() : 0
  }

  /** Queues one message, or drops the client when its queue is over the cap. */
  send(text: string): void {
    if (this.closed) return
    if (this.queued >= this.server.options.maxQueue || this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.server.drop(this, `outbound queue over the cap (${this.queued} messages, ${this.ws.bufferedAmount} bytes)`)
      return
    }
    if (this.queued === 0) this.stalledSince = Date.now()
    this.queued++
    this.ws.send(text, this.written)
  }
}

export class StreamSocketServer {
  private http: Server | null = null
  private wss: WebSocketServer | null = null
  private timer: NodeJS.Timeout | undefined
  private heartbeatAt = 0
  readonly clients = new Set<Client>()
  /** Joined subscriptions by `streamName \0 groupId`. */
  private readonly index = new Map<string, Set<Subscription>>()

  constructor(
    readonly options: StreamSocketOptions,
    private readonly hooks: SocketHooks,
  ) {}

  async start(): Promise<void> {
    const http = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'application/json', connection: 'close' })
      res.end('{"error":"upgrade_required"}')
    })
    http.headersTimeout = 10_000
    http.requestTimeout = 10_000
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME, perMessageDeflate: false })
    http.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head))
    this.http = http
    this.wss = wss
    await listen(http, this.options.port, this.options.host, 'streams')
    const tick = Math.max(20, Math.min(1000, Math.floor(this.options.slowClientMs / 4)))
    this.timer = setInterval(() => this.sweep(), tick)
    this.timer.unref()
  }

  address(): string {
    const a = this.http?.address() as AddressInfo | null
    if (!a) return ''
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address
    return `ws://${host}:${a.port}`
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy())
    const url = new URL(req.url ?? '/', 'http://localhost')
    const info: ConnectInfo = {
      headers: { ...req.headers },
      path: url.pathname,
      query_params: Object.fromEntries(url.searchParams),
      addr: req.socket.remoteAddress ?? '',
    }
    this.hooks.authenticate(info).then(
      (auth) => {
        if (socket.destroyed || !this.wss) return socket.destroy()
        if (auth === undefined) return refuse(socket, 401, 'Unauthorized')
        this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, auth.context))
      },
      () => refuse(socket, 401, 'Unauthorized'),
    )
  }

  private connected(ws: WebSocket, context: unknown): void {
    const client = new Client(ws, context, this)
    this.clients.add(client)
    ws.on('pong', () => {
      client.alive = true
    })
    ws.on('message', (raw, isBinary) => {
      if (isBinary) return this.badFrame(client, 'binary frames are not accepted')
      const msg = parseClientMessage(raw.toString())
      if ('error' in msg) return this.badFrame(client, msg.error)
      if (msg.type === 'join') void this.join(client, msg.data)
      else this.leave(client, msg.data.subscriptionId)
    })
    ws.on('error', () => ws.terminate())
    ws.on('close', () => this.disconnected(client))
  }

  private badFrame(client: Client, message: string): void {
    client.send(
      JSON.stringify({ timestamp: Date.now(), event: { type: 'error', data: { code: 'invalid_message', message } } }),
    )
    if (++client.badFrames > MAX_BAD_FRAMES) client.ws.close(1008, 'too many bad frames')
  }

  private async join(client: Client, data: JoinData): Promise<void> {
    const { subscriptionId: sid, streamName, groupId, id } = data
    const reply = (event: ServerEvent) =>
      client.send(encodeServerMessage(Date.now(), streamName, groupId, id, event, sid))
    if (client.subs.has(sid)) this.leave(client, sid)
    if (client.subs.size >= MAX_SUBSCRIPTIONS) {
      return reply({
        type: 'error',
        data: { code: 'invalid_argument', message: `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection` },
      })
    }
    const sub: Subscription = { ...data, client, pending: [], joined: false }
    // In client.subs at once so that a `leave` sent while the join is checked cancels it.
    client.subs.set(sid, sub)
    let allowed = false
    try {
      allowed = await this.hooks.authorizeJoin(sub, client.context)
    } catch {
      allowed = false
    }
    if (client.subs.get(sid) !== sub || client.closed) return
    if (!allowed) {
      client.subs.delete(sid)
      return reply({ type: 'unauthorized' })
    }
    sub.joined = true
    const key = indexKey(streamName, groupId)
    let set = this.index.get(key)
    if (!set) this.index.set(key, (set = new Set()))
    set.add(sub)
    const timestamp = Date.now()
    let snapshot: unknown
    try {
      snapshot = await this.hooks.snapshot(sub)
    } catch (err) {
      if (client.subs.get(sid) === sub) this.leave(client, sid)
      return reply({ type: 'error', data: { code: 'internal_error', message: (err as Error).message } })
    }
    if (client.subs.get(sid) !== sub || client.closed) return
    client.send(encodeServerMessage(timestamp, streamName, groupId, id, { type: 'sync', data: snapshot }, sid))
    const held = sub.pending ?? []
    sub.pending = null
    for (const text of held) client.send(text)
  }

  private leave(client: Client, sid: string): void {
    const sub = client.subs.get(sid)
    if (!sub) return
    client.subs.delete(sid)
    if (!sub.joined) return
    sub.joined = false
    const key = indexKey(sub.streamName, sub.groupId)
    const set = this.index.get(key)
    set?.delete(sub)
    if (set?.size === 0) this.index.delete(key)
    this.hooks.left(sub, client.context)
  }

  private disconnected(client: Client): void {
    if (client.closed) return
    client.closed = true
    this.clients.delete(client)
    for (const sid of [...client.subs.keys()]) this.leave(client, sid)
  }

  /** Terminates one client (it is too slow, or over its cap); the others are not touched. */
  drop(client: Client, reason: string): void {
    if (client.closed) return
    this.options.log.warn(`stream client dropped: ${reason}`)
    client.ws.terminate()
    this.disconnected(client)
  }

  /**
   * Pushes one event to every subscriber of a group (and, when `itemId` is set, of that item):
   * serialized once, sent once per connection. With `groupOnly`, item subscribers are skipped.
   */
  publish(streamName: string, groupId: string, itemId: string | undefined, event: ServerEvent): void {
    const set = this.index.get(indexKey(streamName, groupId))
    if (!set) return
    const text = encodeServerMessage(Date.now(), streamName, groupId, itemId, event)
    const sent = new Set<Client>()
    for (const sub of set) {
      if (sub.id !== undefined && sub.id !== itemId) continue
      if (sub.pending) sub.pending.push(text)
      else if (!sent.has(sub.client)) {
        sent.add(sub.client)
        sub.client.send(text)
      }
    }
  }

  /** Drops stalled clients; pings on the heartbeat and drops the ones that did not answer. */
  private sweep(): void {
    const now = Date.now()
    const heartbeat = now - this.heartbeatAt >= HEARTBEAT_MS
    if (heartbeat) this.heartbeatAt = now
    for (const client of [...this.clients]) {
      if (client.queued > 0 && now - client.stalledSince > this.options.slowClientMs) {
        this.drop(client, `no write progress for ${now - client.stalledSince} ms with ${client.queued} messages queued`)
      } else if (heartbeat) {
        if (!client.alive) this.drop(client, 'no answer to the heartbeat ping')
        else {
          client.alive = false
          client.ws.ping()
        }
      }
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    const http = this.http
    this.http = null
    for (const client of [...this.clients]) {
      const ws = client.ws
      ws.close(1001, 'engine stopping')
      setTimeout(() => ws.terminate(), 1000).unref()
      this.disconnected(client)
    }
    const wss = this.wss
    this.wss = null
    wss?.close()
    if (http) {
      await new Promise<void>((resolve) => {
        http.close(() => resolve())
        http.closeAllConnections()
      })
    }
  }
}

const indexKey = (streamName: string, groupId: string) => `${streamName}\u0000${groupId}`

function refuse(socket: Duplex, status: number, text: string): void {
  if (socket.destroyed) return
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r\n{"error":"unauthorized"}`,
  )
}
