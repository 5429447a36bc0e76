/**
 * The stream client: one WebSocket to the engine's stream socket, any number of
 * subscriptions, and reconnection with backoff that joins every open subscription again (each
 * then gets a fresh `sync`).
 */
import { type JoinMessage, parseServerMessage, type ServerMessage } from './protocol.js'
import { GroupSubscription, ItemSubscription, type Subscription } from './subscription.js'

/** The part of the WebSocket API the client uses; the browser's and `ws`'s both fit. */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: ((ev: any) => void) | null
  onmessage: ((ev: any) => void) | null
  onclose: ((ev: any) => void) | null
  onerror: ((ev: any) => void) | null
}

export type WebSocketConstructor = new (url: string, ...rest: any[]) => WebSocketLike

export type ConnectionStatus = 'connecting' | 'open' | 'closed'

export interface StreamClientOptions {
  /** The WebSocket class; defaults to `globalThis.WebSocket` (browsers, Node 22+). Pass `ws` in Node 20. */
  WebSocket?: WebSocketConstructor
  /** Extra constructor options, for `ws` in Node (e.g. `{ headers: { authorization } }`). */
  socketOptions?: unknown
  protocols?: string | string[]
  /** Reconnect delays: doubling from `initialDelayMs` up to `maxDelayMs`, with jitter. `false` turns reconnecting off. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number } | false
}

const OPEN = 1

export class StreamClient {
  private ws: WebSocketLike | null = null
  private readonly subs = new Map<string, Subscription>()
  private readonly statusListeners = new Set<(s: ConnectionStatus) => void>()
  private readonly WS: WebSocketConstructor
  private attempt = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private nextId = 1
  private stopped = false
  status: ConnectionStatus = 'connecting'

  constructor(
    readonly url: string,
    private readonly options: StreamClientOptions = {},
  ) {
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    if (!WS) throw new Error('StreamClient: no WebSocket available; pass options.WebSocket (e.g. the ws package)')
    this.WS = WS
    this.connect()
  }

  /** Follows every item of a group. */
  subscribeGroup<T = unknown>(streamName: string, groupId: string): GroupSubscription<T> {
    const sub = new GroupSubscription<T>(this.newId(), streamName, groupId, undefined, (s) => this.unsubscribe(s))
    return this.add(sub) as GroupSubscription<T>
  }

  /** Follows one item. */
  subscribeItem<T = unknown>(streamName: string, groupId: string, id: string): ItemSubscription<T> {
    const sub = new ItemSubscription<T>(this.newId(), streamName, groupId, id, (s) => this.unsubscribe(s))
    return this.add(sub) as ItemSubscription<T>
  }

  /** Calls `fn` whenever the connection opens or closes; returns an unsubscribe. */
  onStatus(fn: (s: ConnectionStatus) => void): () => void {
    this.statusListeners.add(fn)
    return () => this.statusListeners.delete(fn)
  }

  /** Closes the socket and every subscription, and stops reconnecting. Safe to call twice. */
  close(): void {
    if (this.stopped) return
    this.stopped = true
    clearTimeout(this.timer)
    for (const sub of [...this.subs.values()]) sub.close()
    const ws = this.ws
    this.ws = null
    if (ws) {
      ws.onclose = null
      ws.onmessage = null
      ws.close(1000, 'client closed')
    }
    this.setStatus('closed')
  }

  private newId(): string {
    return `sub-${this.nextId++}-${Math.random().toString(36).slice(2, 8)}`
  }

  private add(sub: Subscription): Subscription {
    if (this.stopped) throw new Error('StreamClient: the client is closed')
    this.subs.set(sub.subscriptionId, sub)
    this.sendJoin('join', sub)
    return sub
  }

  private unsubscribe(sub: { subscriptionId: string; streamName: string; groupId: string; id?: string }): void {
    if (this.subs.delete(sub.subscriptionId)) this.sendJoin('leave', sub)
  }

  private sendJoin(
    type: 'join' | 'leave',
    sub: { subscriptionId: string; streamName: string; groupId: string; id?: string },
  ): void {
    if (!this.ws || this.ws.readyState !== OPEN) return // joined on open
    const msg: JoinMessage = {
      type,
      data: { subscriptionId: sub.subscriptionId, streamName: sub.streamName, groupId: sub.groupId },
    }
    if (sub.id !== undefined) msg.data.id = sub.id
    this.ws.send(JSON.stringify(msg))
  }

  private connect(): void {
    if (this.stopped) return
    this.setStatus('connecting')
    let ws: WebSocketLike
    try {
      ws = new this.WS(this.url, this.options.protocols, this.options.socketOptions)
    } catch {
      this.scheduleReconnect()
      return
    }
    this.ws = ws
    ws.onopen = () => {
      this.attempt = 0
      this.setStatus('open')
      for (const sub of this.subs.values()) this.sendJoin('join', sub)
    }
    ws.onmessage = (ev: { data: unknown }) => {
      const msg = parseServerMessage(typeof ev.data === 'string' ? ev.data : String(ev.data))
      if (msg) this.route(msg)
    }
    ws.onerror = () => {}
    ws.onclose = () => {
      if (this.ws !== ws) return
      this.ws = null
      for (const sub of this.subs.values()) sub.synced = false
      this.setStatus('closed')
      this.scheduleReconnect()
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.options.reconnect === false) return
    const { initialDelayMs = 200, maxDelayMs = 5000 } = this.options.reconnect ?? {}
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** this.attempt++)
    const delay = base / 2 + Math.random() * (base / 2)
    this.timer = setTimeout(() => this.connect(), delay)
  }

  /** Hands a message to the subscriptions it is for. */
  private route(msg: ServerMessage): void {
    if (msg.subscriptionId !== undefined) {
      this.subs.get(msg.subscriptionId)?.receive(msg)
      return
    }
    for (const sub of this.subs.values()) {
      if (sub.streamName !== msg.streamName || sub.groupId !== msg.groupId) continue
      // Group subscriptions get every item's messages; item subscriptions only their item's.
      if (sub.id === undefined ? true : sub.id === msg.id) sub.receive(msg)
    }
  }

  private setStatus(s: ConnectionStatus): void {
    if (this.status === s) return
    this.status = s
    for (const l of this.statusListeners) l(s)
  }
}
