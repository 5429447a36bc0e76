/**
 * Subscriptions: what a client follows (a group or one item), the live value, and the rules
 * that apply server messages to it. No sockets here; {@link StreamClient} feeds messages in.
 *
 * Ordering: every message carries the server's `timestamp`. A change is applied only when it
 * is not older than what the subscription already holds for that item (its last change, its
 * deletion, or the `sync` that included it), so a late or replayed message never rolls a value
 * back. Equal timestamps apply in arrival order, which the socket keeps.
 */
import type { CustomEvent, ServerMessage } from './protocol.js'

type Listener<T> = (value: T) => void

/** What every subscription offers. */
abstract class BaseSubscription<V> {
  /** True once the first `sync` arrived (and again after each reconnect's sync). */
  synced = false
  /** True when the server refused the join (`unauthorized`). */
  unauthorized = false
  closed = false
  private readonly changeListeners = new Set<Listener<V>>()
  private readonly eventListeners = new Set<{ type?: string; fn: Listener<CustomEvent> }>()
  private readonly errorListeners = new Set<Listener<{ code: string; message: string }>>()

  constructor(
    readonly subscriptionId: string,
    readonly streamName: string,
    readonly groupId: string,
    readonly id: string | undefined,
    private readonly onClose: (sub: BaseSubscription<V>) => void,
  ) {}

  /** The current value. */
  abstract get value(): V

  /** Calls `fn` with the value after every sync and applied change; returns an unsubscribe. */
  onChange(fn: Listener<V>): () => void {
    this.changeListeners.add(fn)
    if (this.synced) fn(this.value)
    return () => this.changeListeners.delete(fn)
  }

  /** Calls `fn` for custom events (all of them, or only those of `type`). */
  onEvent(fn: Listener<CustomEvent>): () => void
  onEvent(type: string, fn: Listener<CustomEvent>): () => void
  onEvent(a: string | Listener<CustomEvent>, b?: Listener<CustomEvent>): () => void {
    const entry = typeof a === 'string' ? { type: a, fn: b as Listener<CustomEvent> } : { fn: a }
    this.eventListeners.add(entry)
    return () => this.eventListeners.delete(entry)
  }

  /** Calls `fn` when the server refuses the join (`unauthorized`) or reports an error for it. */
  onError(fn: Listener<{ code: string; message: string }>): () => void {
    this.errorListeners.add(fn)
    return () => this.errorListeners.delete(fn)
  }

  /** Stops following; the client sends `leave`. Safe to call twice. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.onClose(this)
  }

  /** Applies one message addressed to this subscription. */
  receive(msg: ServerMessage): void {
    const e = msg.event
    switch (e.type) {
      case 'sync':
        this.unauthorized = false
        this.applySync(e.data, msg.timestamp)
        this.synced = true
        this.emitChange()
        return
      case 'create':
      case 'update':
      case 'delete':
        if (msg.id !== undefined && this.applyChange(msg.id, e.type, e.data, msg.timestamp)) this.emitChange()
        return
      case 'event':
        for (const l of this.eventListeners) if (l.type === undefined || l.type === e.data?.type) l.fn(e.data)
        return
      case 'unauthorized':
        this.unauthorized = true
        this.emitError({ code: 'unauthorized', message: `joining ${this.streamName}/${this.groupId} was refused` })
        return
      case 'error':
        this.emitError(e.data)
        return
    }
  }

  protected abstract applySync(data: unknown, timestamp: number): void
  /** Returns true when the value changed. */
  protected abstract applyChange(id: string, type: 'create' | 'update' | 'delete', data: unknown, ts: number): boolean

  private emitChange(): void {
    const v = this.value
    for (const l of this.changeListeners) l(v)
  }

  private emitError(err: { code: string; message: string }): void {
    for (const l of this.errorListeners) l(err)
  }
}

/** Follows every item of a group; `value` is the items, in the server's order then arrival. */
export class GroupSubscription<T = unknown> extends BaseSubscription<T[]> {
  private items = new Map<string, T>()
  /** The timestamp each item id was last changed at (deletions included). */
  private stamps = new Map<string, number>()
  private cache: T[] | null = []

  get value(): T[] {
    if (this.cache === null) this.cache = [...this.items.values()]
    return this.cache
  }

  /** The items as an id -> item map (a copy). */
  get byId(): Map<string, T> {
    return new Map(this.items)
  }

  protected applySync(data: unknown, ts: number): void {
    const next = new Map<string, T>()
    const stamps = new Map<string, number>()
    for (const item of Array.isArray(data) ? data : []) {
      const id = idOf(item)
      if (id === undefined) continue
      next.set(id, item as T)
      stamps.set(id, ts)
    }
    // Anything this subscription learned after the snapshot was taken stays.
    for (const [id, stamp] of this.stamps) {
      if (stamp <= ts) continue
      stamps.set(id, stamp)
      const held = this.items.get(id)
      if (held === undefined) next.delete(id)
      else next.set(id, held)
    }
    this.items = next
    this.stamps = stamps
    this.cache = null
  }

  protected applyChange(id: string, type: 'create' | 'update' | 'delete', data: unknown, ts: number): boolean {
    const stamp = this.stamps.get(id)
    if (stamp !== undefined && ts < stamp) return false
    this.stamps.set(id, ts)
    if (type === 'delete') {
      if (!this.items.delete(id)) return false
    } else {
      this.items.set(id, data as T)
    }
    this.cache = null
    return true
  }
}

/** Follows one item; `value` is the item, or null while it does not exist. */
export class ItemSubscription<T = unknown> extends BaseSubscription<T | null> {
  private current: T | null = null
  private stamp = -Infinity

  get value(): T | null {
    return this.current
  }

  protected applySync(data: unknown, ts: number): void {
    if (ts < this.stamp) return
    this.current = (data ?? null) as T | null
    this.stamp = ts
  }

  protected applyChange(_id: string, type: 'create' | 'update' | 'delete', data: unknown, ts: number): boolean {
    if (ts < this.stamp) return false
    this.stamp = ts
    this.current = type === 'delete' ? null : (data as T)
    return true
  }
}

export type Subscription = GroupSubscription<any> | ItemSubscription<any>

function idOf(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null) return undefined
  const id = (item as { id?: unknown }).id
  return typeof id === 'string' ? id : undefined
}
