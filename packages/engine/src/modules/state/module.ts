/**
 * State: a key-value store of JSON values in groups, behind the `state.*` built-ins, and the
 * `state` trigger type that runs a function after every change (optionally of one group).
 *
 * Built-ins (input -> result): `state.get {group_id,item_id}` -> value or null;
 * `state.set {group_id,item_id,data}` -> `{old_value,new_value}`; `state.delete` -> the old
 * value or null; `state.getGroup {group_id}` -> `[value...]` (by item id);
 * `state.listGroups {}` -> `[group_id...]`; `state.clear {group_id}` -> null;
 * `state.update {group_id,item_id,ops}` -> `{old_value,new_value}` (atomic).
 *
 * Triggers fire after the write is stored, without holding up its result; a failing or
 * condition-stopped handler is logged and never undoes the write.
 */

import { ErrorCode, IIIError } from '../../errors.js'
import { fireTriggers } from '../fire.js'
import type { CallContext, EngineApi, EngineModule, TriggerRecord } from '../module.js'
import {
  createAdapter,
  dataField,
  idField,
  inputObject,
  type JsonValue,
  type KvAdapter,
  parseOps,
  type WriteResult,
  withFunctionName,
} from '../store/index.js'
import type { StateOptions } from './options.js'

/** The one scope state uses inside its adapter. */
const SCOPE = 'state'

export type StateEventType = 'created' | 'updated' | 'deleted'

export class StateModule implements EngineModule {
  readonly name = 'state'
  private adapter: KvAdapter | null = null
  private engine: EngineApi | null = null
  /** Active `state` triggers by id. */
  private readonly triggers = new Map<string, TriggerRecord>()

  constructor(private readonly options: StateOptions) {}

  /** The adapter in use; for tests and tools. */
  get store(): KvAdapter | null {
    return this.adapter
  }

  async start(engine: EngineApi): Promise<void> {
    this.engine = engine
    const store = createAdapter(this.options, engine.options.dataDir, 'state')
    this.adapter = store

    engine.registerTriggerType(
      'state',
      {
        register: (t) => {
          const g = t.config.group_id
          if (g !== undefined && g !== null && (typeof g !== 'string' || g === '')) {
            throw new IIIError(
              ErrorCode.InvalidTrigger,
              `state trigger ${t.id}: config.group_id must be a non-empty string`,
            )
          }
          this.triggers.set(t.id, t)
        },
        unregister: (t) => {
          this.triggers.delete(t.id)
        },
      },
      'Runs the function after every change of a state item (config.group_id limits it to one group)',
    )

    const ids = (fn: string, input: unknown, shape = '{group_id, item_id}') => {
      const o = inputObject(input, fn, shape)
      return { o, group: idField(o, 'group_id', fn), item: idField(o, 'item_id', fn) }
    }

    engine.registerFunction(
      'state.get',
      (input) => {
        const { group, item } = ids('state.get', input)
        return store.get(SCOPE, group, item)
      },
      { description: 'Reads one state item: {group_id, item_id} -> value or null' },
    )

    engine.registerFunction(
      'state.set',
      async (input, ctx) => {
        const { o, group, item } = ids('state.set', input, '{group_id, item_id, data}')
        const r = await store.set(SCOPE, group, item, dataField(o, 'state.set'))
        this.fire(r.old_value === null ? 'created' : 'updated', group, item, r.old_value, r.new_value, ctx)
        return r
      },
      { description: 'Stores one state item: {group_id, item_id, data} -> {old_value, new_value}' },
    )

    engine.registerFunction(
      'state.delete',
      async (input, ctx) => {
        const { group, item } = ids('state.delete', input)
        const old = await store.delete(SCOPE, group, item)
        if (old !== null) this.fire('deleted', group, item, old, null, ctx)
        return old
      },
      { description: 'Removes one state item: {group_id, item_id} -> the old value or null' },
    )

    engine.registerFunction(
      'state.getGroup',
      (input) =>
        store.getGroup(
          SCOPE,
          idField(inputObject(input, 'state.getGroup', '{group_id}'), 'group_id', 'state.getGroup'),
        ),
      { description: 'Reads every item of a group: {group_id} -> [value, ...] ordered by item id' },
    )

    engine.registerFunction(
      'state.listGroups',
      (input) => {
        if (input !== undefined && input !== null) inputObject(input, 'state.listGroups', '{}')
        return store.listGroups(SCOPE)
      },
      { description: 'Lists the groups that hold items: {} -> [group_id, ...]' },
    )

    engine.registerFunction(
      'state.clear',
      async (input, ctx) => {
        const group = idField(inputObject(input, 'state.clear', '{group_id}'), 'group_id', 'state.clear')
        const removed = await store.clear(SCOPE, group)
        for (const e of removed) this.fire('deleted', group, e.item_id, e.value, null, ctx)
        return null
      },
      { description: 'Removes every item of a group: {group_id} -> null' },
    )

    engine.registerFunction(
      'state.update',
      async (input, ctx) => {
        const { o, group, item } = ids('state.update', input, '{group_id, item_id, ops}')
        const ops = parseOps(o.ops, 'state.update')
        let r: WriteResult
        try {
          r = await store.update(SCOPE, group, item, ops)
        } catch (err) {
          throw withFunctionName(err, 'state.update')
        }
        if (r.new_value === null) {
          if (r.old_value !== null) this.fire('deleted', group, item, r.old_value, null, ctx)
        } else {
          this.fire(r.old_value === null ? 'created' : 'updated', group, item, r.old_value, r.new_value, ctx)
        }
        return r
      },
      { description: 'Changes one state item atomically: {group_id, item_id, ops} -> {old_value, new_value}' },
    )
  }

  /** Runs every matching `state` trigger; never waits for them and never throws. */
  private fire(
    event_type: StateEventType,
    group_id: string,
    item_id: string,
    old_value: JsonValue | null,
    new_value: JsonValue | null,
    ctx: CallContext,
  ): void {
    const engine = this.engine
    if (!engine || this.triggers.size === 0) return
    const targets: TriggerRecord[] = []
    for (const t of this.triggers.values()) {
      const g = t.config.group_id
      if (g === undefined || g === null || g === group_id) targets.push(t)
    }
    if (targets.length === 0) return
    const payload = { event_type, group_id, item_id, old_value, new_value }
    fireTriggers(engine, targets, payload, (t) => ({ type: 'state', id: t.id }), ctx)
  }

  async stop(): Promise<void> {
    const adapter = this.adapter
    this.adapter = null
    this.triggers.clear()
    await adapter?.close()
  }
}
