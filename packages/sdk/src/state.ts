/**
 * State: the engine's key-value store of groups of items (the `state.*` built-ins). Use
 * `bridge.state`, `new State(bridge)` (any {@link Caller}), or `new State()` for the default
 * bridge. Unlike streams, state is not pushed to clients; changes fire `state` triggers.
 */
import { useDefault } from './default-slot.js'
import type { SetResult, UpdateOp } from './stream.js'
import type { Caller } from './types.js'

/** A handle on the engine's state store. Every method is one call to a `state.*` built-in. */
export class State {
  /** @param bridge the bridge (any {@link Caller}) to use; the default bridge (looked up at each call) when left out */
  constructor(private readonly bridge?: Caller) {}

  private call<R>(fn: string, data: Record<string, unknown>): Promise<R> {
    try {
      return (this.bridge ?? useDefault()).invokeFunction<R>(`state.${fn}`, data)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** The value, or `null` when there is none. */
  get<T = any>(groupId: string, itemId: string): Promise<T | null> {
    return this.call('get', { group_id: groupId, item_id: itemId })
  }

  /** Stores the value (replacing it). */
  set<T = any>(groupId: string, itemId: string, data: T): Promise<SetResult<T>> {
    return this.call('set', { group_id: groupId, item_id: itemId, data })
  }

  /** Removes the value; resolves with what it was, or `null`. */
  delete<T = any>(groupId: string, itemId: string): Promise<T | null> {
    return this.call('delete', { group_id: groupId, item_id: itemId })
  }

  /** Every value of a group. */
  getGroup<T = any>(groupId: string): Promise<T[]> {
    return this.call('getGroup', { group_id: groupId })
  }

  /** The ids of the groups that hold values. */
  listGroups(): Promise<string[]> {
    return this.call('listGroups', {})
  }

  /** Removes every value of a group. */
  clear(groupId: string): Promise<unknown> {
    return this.call('clear', { group_id: groupId })
  }

  /** Applies `ops` to the value atomically. */
  update<T = any>(groupId: string, itemId: string, ops: UpdateOp[]): Promise<SetResult<T>> {
    return this.call('update', { group_id: groupId, item_id: itemId, ops })
  }
}
