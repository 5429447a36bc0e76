/**
 * The storage seam shared by the `state` and `streams` modules. Each module owns one
 * {@link KvAdapter}, chosen by name in the config (`memory`, `sqlite`, later `redis`).
 *
 * The interface is written for a networked backend: every method is async, values cross it as
 * plain JSON, nothing hands out live references or cursors, and each method is one atomic
 * operation on its own (no multi-call transactions). Adapters are used by one engine process;
 * several processes may share a networked backend later, so no method may rely on in-process
 * locking for its atomicity guarantees beyond what it documents.
 */
import type { UpdateOp } from './ops.js'

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** What a write returns: the value before it (null when the item did not exist) and after. */
export interface WriteResult {
  old_value: JsonValue | null
  new_value: JsonValue | null
}

/** What {@link KvAdapter.setText} answers: the stored JSON text before and after the write. */
export interface TextWriteResult {
  old_text: string | null
  new_text: string
}

/** What {@link KvAdapter.updateText} answers: the values and their stored JSON text (null: none). */
export interface TextUpdateResult extends WriteResult {
  old_text: string | null
  new_text: string | null
}

/** One stored item with its id, as returned by {@link KvAdapter.clear}. */
export interface Entry {
  item_id: string
  value: JsonValue
}

/**
 * A key-value store of JSON values addressed by `(scope, group, item)`. A scope separates the
 * users of one adapter (the streams module uses the stream name; state uses one fixed scope).
 *
 * Contract (checked by `test/store.contract.test.ts` against every implementation):
 * - a missing item reads as `null`; `null` is never stored as a value;
 * - every method that writes is atomic: it happens completely or not at all, and concurrent
 *   `update`s of one item never lose an operation (64 concurrent increments end exact);
 * - a value whose JSON text is longer than `maxValueBytes` (UTF-8) is refused with
 *   `IIIError('payload_too_large')` and nothing is written;
 * - once a write's promise resolves it is as durable as the adapter documents
 *   (`docs/state-and-streams.md`: the sqlite adapter survives `kill -9` of the engine);
 * - `getGroup` returns values ordered by item id, `listGroups` group ids in order; a group
 *   exists while it has at least one item.
 */
export interface KvAdapter {
  /** The adapter's config name (`memory`, `sqlite`, ...). */
  readonly name: string
  get(scope: string, group: string, item: string): Promise<JsonValue | null>
  /**
   * {@link get}, answering the stored JSON text (null when missing) without parsing it.
   * Optional: a fast path for callers that only forward the value (the `state.get` built-in).
   */
  getText?(scope: string, group: string, item: string): Promise<string | null>
  /**
   * {@link set}, answering the stored JSON text of the old and the new value instead of parsed
   * values. Optional, same contract as `set` otherwise.
   */
  setText?(scope: string, group: string, item: string, value: JsonValue): Promise<TextWriteResult>
  /** Stores `value` (not null) and returns the previous and the new value. */
  set(scope: string, group: string, item: string, value: JsonValue): Promise<WriteResult>
  /** Removes an item; resolves with the value it had, or null when there was none. */
  delete(scope: string, group: string, item: string): Promise<JsonValue | null>
  /** Every value in a group, ordered by item id; `[]` for an empty or unknown group. */
  getGroup(scope: string, group: string): Promise<JsonValue[]>
  /**
   * Every item of a group with its id, ordered by item id (what the stream socket's `sync`
   * needs to tell clients which item is which). Optional: without it the streams module
   * sends the values of {@link getGroup} as they are.
   */
  getGroupEntries?(scope: string, group: string): Promise<Entry[]>
  /** The ids of the groups in a scope that hold at least one item, in order. */
  listGroups(scope: string): Promise<string[]>
  /**
   * The scopes that hold at least one item, in order (for the streams store: the stream names;
   * the console's stream browser lists them). Optional: a store without it lists nothing.
   */
  listScopes?(): Promise<string[]>
  /** Removes a whole group at once; resolves with what was removed, ordered by item id. */
  clear(scope: string, group: string): Promise<Entry[]>
  /**
   * Applies `ops` (see `ops.ts`) to the current value (null when missing) in one atomic step.
   * `finish`, when given, maps the result before it is checked and stored (the streams module
   * uses it to keep an item's `id`); it must be pure and may throw to refuse the update.
   * A result of `null` deletes the item. Any error leaves the stored value unchanged.
   */
  update(
    scope: string,
    group: string,
    item: string,
    ops: UpdateOp[],
    finish?: (value: JsonValue | null) => JsonValue | null,
  ): Promise<WriteResult>
  /**
   * {@link update}, also answering the stored JSON text of the old and new value, so that a
   * caller forwarding the result need not serialize the values again. Optional.
   */
  updateText?(
    scope: string,
    group: string,
    item: string,
    ops: UpdateOp[],
    finish?: (value: JsonValue | null) => JsonValue | null,
  ): Promise<TextUpdateResult>
  /** Releases files and connections. Safe to call twice; nothing may be called after it. */
  close(): Promise<void>
}

/** Options every adapter accepts. */
export interface AdapterOptions {
  /** The largest value, as UTF-8 JSON text, that may be stored. */
  maxValueBytes: number
}
