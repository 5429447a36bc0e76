/**
 * Streams: named collections of groups of items, stored by the engine's `streams` module and
 * pushed to subscribed clients in real time. `new Stream('todos')` talks through the default
 * bridge unless a bridge (any {@link Caller}) is given.
 */
import { useDefault } from './default-slot.js'
import { ErrorCode, IIIError } from './errors.js'
import type { Caller } from './types.js'

/** One atomic change of an item (for `update`). `path` is a dot-separated field path. */
export type UpdateOp =
  | { type: 'set'; path: string; value: unknown }
  | { type: 'merge'; path?: string; value: Record<string, unknown> }
  | { type: 'increment' | 'decrement'; path: string; by: number }
  | { type: 'remove'; path: string }

/** What `set` and `update` resolve with: the item before and after. */
export interface SetResult<T> {
  old_value: T | null
  new_value: T
}

/** A typed handle on one stream. Every method is one call to a `streams.*` built-in. */
export class Stream<T = any> {
  /**
   * @param streamName the stream's name
   * @param bridge the bridge (any {@link Caller}) to use; the default bridge (looked up at each call) when left out
   * @throws IIIError `invalid_argument` when the name is not a non-empty string
   */
  constructor(
    readonly streamName: string,
    private readonly bridge?: Caller,
  ) {
    if (typeof streamName !== 'string' || streamName.length === 0) {
      throw new IIIError(ErrorCode.InvalidArgument, 'a stream needs a name')
    }
  }

  private call<R>(fn: string, data: Record<string, unknown>): Promise<R> {
    try {
      return (this.bridge ?? useDefault()).invokeFunction<R>(`streams.${fn}`, { stream_name: this.streamName, ...data })
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** The item, or `null` when there is none. */
  get(groupId: string, itemId: string): Promise<T | null> {
    return this.call('get', { group_id: groupId, item_id: itemId })
  }

  /** Stores the item (replacing it). */
  set(groupId: string, itemId: string, data: T): Promise<SetResult<T>> {
    return this.call('set', { group_id: groupId, item_id: itemId, data })
  }

  /** Removes the item; resolves with what it was, or `null`. */
  delete(groupId: string, itemId: string): Promise<T | null> {
    return this.call('delete', { group_id: groupId, item_id: itemId })
  }

  /** Every item of a group. */
  getGroup(groupId: string): Promise<T[]> {
    return this.call('getGroup', { group_id: groupId })
  }

  /** The ids of the groups that hold items. */
  listGroups(): Promise<string[]> {
    return this.call('listGroups', {})
  }

  /** Pushes a custom event (not stored) to the group's subscribers, or to one item's. */
  send(groupId: string, type: string, data?: unknown, itemId?: string): Promise<null> {
    const input: Record<string, unknown> = { group_id: groupId, type }
    if (data !== undefined) input.data = data
    if (itemId !== undefined) input.item_id = itemId
    return this.call('send', input)
  }

  /** Applies `ops` to the item atomically (concurrent increments are never lost). */
  update(groupId: string, itemId: string, ops: UpdateOp[]): Promise<SetResult<T>> {
    return this.call('update', { group_id: groupId, item_id: itemId, ops })
  }
}
