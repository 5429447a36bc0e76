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
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import * as wsModule from 'ws'
import { WebSocket } from 'ws'
import { type PeerHandler, WsEndpoint, type WsPeer } from '../../net/ws-endpoint.js'
import { encodeServerMessage, type JoinData, nextTimestamp, parseClientMessage, type ServerEvent } from './messages.js'

/** A client's outbound bytes not yet written to the kernel, above which it is dropped. */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024
/** Subscriptions one connection may hold at once. */
export const MAX_SUBSCRIPTIONS = 1000
/** Largest frame a client may send (joins are small). */
const MAX_CLIENT_FRAME = 64 * 1024
/** Bad frames tolerated on one connection before it is closed. */
const MAX_BAD_FRAMES = 100
const HEARTBEAT_MS = 15_000

/** ws's frame encoder (untyped in @types/ws). */
const { Sender } = wsModule as unknown as {
  Sender: {
    frame(data: Buffer, o: { fin: boolean; rsv1: boolean; opcode: number; mask: boolean; readOnly: boolean }): Buffer[]
  }
}

/**
 * One complete WebSocket text frame (header and payload) for `text`, built once per push and
 * written as it is to every subscriber's socket. The server sends unmasked frames and the
 * stream socket runs without permessage-deflate, so the bytes are the same for every client.
 */
export function textFrame(text: string): Buffer {
  const list = Sender.frame(Buffer.from(text), { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false })
  return list.length === 1 ? list[0] : Buffer.concat(list)
}

/** What the client sent when it connected, as the auth function receives it. */
export interface ConnectInfo {
  headers: Record<string, string | string[] | undefined>
  path: string
  /** Every value of each query parameter, in order (`?tag=a&tag=b` -> `{tag: ["a", "b"]}`), as the original engine gave them. */
  query_params: Record<string, string[]>
  /** The client's `ip:port`. */
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
  /** `header_timeout_ms`: an upgrade not complete after this long is closed (R19). */
  headerTimeoutMs?: number
  log: { warn(m: string, f?: Record<string, unknown>): void; debug(m: string, f?: Record<string, unknown>): void }
}

export class Client {
  readonly subs = new Map<string, Subscription>()
  /** Writes handed to the socket whose callback has not run yet. */
  queued = 0
  /** When the queue last made progress (or started filling); 0 while it is empty. */
  stalledSince = 0
  closed = false
  /** The last {@link StreamSocketServer.publish} this client got (one copy per push). */
  lastPush = 0
  readonly ws: WebSocket

  constructor(
    readonly peer: WsPeer,
    readonly context: unknown,
    private readonly server: StreamSocketServer,
  ) {
    this.ws = peer.ws
  }

  private readonly written = () => {
    this.queued--
    this.stalledSince = this.queued > 0 ? Date.now() : 0
  }

  /**
   * Queues one message, or drops the client when its queue is over the cap. A push hands
   * every subscriber the same ready-made frame ({@link textFrame}), written straight to the
   * connection's socket: ws's sender writes each frame whole (nothing queues in it without
   * compression), so frames never interleave.
   */
  send(text: string | Buffer): void {
    if (this.closed) return
    // A frame is written raw, only while the connection is open (never after a close frame).
    let raw: Socket | undefined
    if (typeof text !== 'string') {
      raw = (this.ws as unknown as { _socket?: Socket })._socket
      if (raw === undefined || this.ws.readyState !== WebSocket.OPEN) return
    }
    if (this.queued >= this.server.options.maxQueue || this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.server.drop(this, `outbound queue over the cap (${this.queued} messages, ${this.ws.bufferedAmount} bytes)`)
      return
    }
    if (this.queued === 0) this.stalledSince = Date.now()
    this.queued++
    if (raw !== undefined) raw.write(text, this.written)
    else this.ws.send(text, this.written)
  }
}

export class StreamSocketServer {
  private endpoint: WsEndpoint | null = null
  private timer: NodeJS.Timeout | undefined
  readonly clients = new Set<Client>()
  /** Joined subscriptions by `streamName \0 groupId`. */
  private readonly index = new Map<string, Set<Subscription>>()
  private pushes = 0

  constructor(
    readonly options: StreamSocketOptions,
    private readonly hooks: SocketHooks,
  ) {}

  async start(): Promise<void> {
    this.endpoint = new WsEndpoint({
      name: 'streams',
      host: this.options.host,
      port: this.options.port,
      maxPayload: MAX_CLIENT_FRAME,
      heartbeatMs: HEARTBEAT_MS,
      // The budget counts every bad frame of a connection in a minute: the 101st closes it.
      maxBadFrames: MAX_BAD_FRAMES + 1,
      // A browser joins and leaves a few subscriptions; a flood is slowed down.
      maxFramesPerSecond: 1000,
      headerTimeoutMs: this.options.headerTimeoutMs,
      upgradeMessage: 'the iii stream socket speaks WebSocket only',
      admit: (req) => this.hooks.authenticate(connectInfo(req)),
      connected: (peer, context) => this.connected(peer, context),
    })
    await this.endpoint.start()
    const tick = Math.max(20, Math.min(1000, Math.floor(this.options.slowClientMs / 4)))
    this.timer = setInterval(() => this.sweep(), tick)
    this.timer.unref()
  }

  address(): string {
    return this.endpoint?.url() ?? ''
  }

  private connected(peer: WsPeer, context: unknown): PeerHandler {
    const client = new Client(peer, context, this)
    this.clients.add(client)
    return {
      message: (raw, isBinary) => {
        if (isBinary) return this.badFrame(client, 'binary frames are not accepted')
        const msg = parseClientMessage(raw.toString())
        if ('error' in msg) return this.badFrame(client, msg.error)
        if (msg.type === 'join') void this.join(client, msg.data)
        else this.leave(client, msg.data.subscriptionId)
      },
      close: () => this.disconnected(client),
      error: () => client.ws.terminate(),
      missed: () => this.drop(client, 'no answer to the heartbeat ping'),
    }
  }

  private badFrame(client: Client, message: string): void {
    client.send(
      JSON.stringify({ timestamp: Date.now(), event: { type: 'error', data: { code: 'invalid_message', message } } }),
    )
    client.peer.badFrame()
  }

  private async join(client: Client, data: JoinData): Promise<void> {
    const { subscriptionId: sid, streamName, groupId, id } = data
    const reply = (event: ServerEvent) =>
      client.send(encodeServerMessage(nextTimestamp(), streamName, groupId, id, event, sid))
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
    const timestamp = nextTimestamp()
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
   * serialized and UTF-8 encoded once, sent once per connection.
   */
  publish(
    streamName: string,
    groupId: string,
    itemId: string | undefined,
    event: ServerEvent,
    timestamp = nextTimestamp(),
  ): void {
    const set = this.index.get(indexKey(streamName, groupId))
    if (!set) return
    const text = encodeServerMessage(timestamp, streamName, groupId, itemId, event)
    // Framed once: each socket gets the same bytes, no per-client JSON, encoding or framing.
    const bytes = textFrame(text)
    const push = ++this.pushes
    for (const sub of set) {
      if (sub.id !== undefined && sub.id !== itemId) continue
      if (sub.pending) sub.pending.push(text)
      else if (sub.client.lastPush !== push) {
        sub.client.lastPush = push
        sub.client.send(bytes)
      }
    }
  }

  /** Drops clients whose outbound queue made no progress for `slowClientMs`. */
  private sweep(): void {
    const now = Date.now()
    for (const client of [...this.clients]) {
      if (client.queued > 0 && now - client.stalledSince > this.options.slowClientMs) {
        this.drop(client, `no write progress for ${now - client.stalledSince} ms with ${client.queued} messages queued`)
      }
    }
  }

  /** Refuses new stream connections; the open ones stay until `stop`. */
  drain(): void {
    this.endpoint?.drain()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    const endpoint = this.endpoint
    this.endpoint = null
    for (const client of [...this.clients]) this.disconnected(client)
    await endpoint?.stop('engine stopping')
  }
}

const indexKey = (streamName: string, groupId: string) => `${streamName}\u0000${groupId}`

/** What the auth function is told about a connection, from its upgrade request. */
function connectInfo(req: IncomingMessage): ConnectInfo {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const query_params: Record<string, string[]> = {}
  for (const [k, v] of url.searchParams) (query_params[k] ??= []).push(v)
  const { remoteAddress = '', remotePort } = req.socket
  const host = remoteAddress.includes(':') ? `[${remoteAddress}]` : remoteAddress
  return {
    headers: { ...req.headers },
    path: url.pathname,
    query_params,
    addr: remotePort === undefined ? remoteAddress : `${host}:${remotePort}`,
  }
}
