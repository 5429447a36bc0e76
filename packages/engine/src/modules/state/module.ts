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
import { RawJson } from '../../raw-json.js'
import type { SharedRedis } from '../../redis/shared.js'
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

/** The cluster channel of state changes (for the other engines' triggers). */
const CHANNEL = 'state:changes'

/** A change as sent to the other engines. */
interface ClusterChange {
  e: StateEventType
  g: string
  i: string
  o: JsonValue | null
  n: JsonValue | null
  tp?: string
  bg?: string
}

export type StateEventType = 'created' | 'updated' | 'deleted'

/**
 * A state trigger registered the way the original Motia did it (its condition in
 * `config.condition_function_path`): its payload's `event_type` is the original's
 * `state:created|updated|deleted` instead of ours.
 */
function isOriginalStyle(t: TriggerRecord): boolean {
  return typeof t.config.condition_function_path === 'string'
}

export class StateModule implements EngineModule {
  readonly name = 'state'
  private adapter: KvAdapter | null = null
  private engine: EngineApi | null = null
  /** Active `state` triggers by id. */
  private readonly triggers = new Map<string, TriggerRecord>()

  constructor(
    private readonly options: StateOptions,
    private readonly shared: SharedRedis | null = null,
  ) {}

  /** The adapter in use; for tests and tools. */
  get store(): KvAdapter | null {
    return this.adapter
  }

  async start(engine: EngineApi): Promise<void> {
    this.engine = engine
    const store = createAdapter(this.options, engine.options.dataDir, 'state', this.shared)
    this.adapter = store
    this.shared?.subscribe(CHANNEL, (_from, body) => {
      const m = JSON.parse(body) as ClusterChange
      this.fireLocal(m.e, m.g, m.i, m.o, m.n, { traceparent: m.tp, baggage: m.bg })
    })

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
      async (input) => {
        const { group, item } = ids('state.get', input)
        if (store.getText === undefined) return store.get(SCOPE, group, item)
        // The stored text goes out as it is: no parse here, no stringify in the bridge.
        const text = await store.getText(SCOPE, group, item)
        return text === null ? null : new RawJson(text)
      },
      { description: 'Reads one state item: {group_id, item_id} -> value or null' },
    )

    engine.registerFunction(
      'state.set',
      async (input, ctx) => {
        const { o, group, item } = ids('state.set', input, '{group_id, item_id, data}')
        const value = dataField(o, 'state.set')
        if (store.setText === undefined) {
          const r = await store.set(SCOPE, group, item, value)
          this.fire(r.old_value === null ? 'created' : 'updated', group, item, r.old_value, r.new_value, ctx)
          return r
        }
        const t = await store.setText(SCOPE, group, item, value)
        if (this.listening()) {
          const old = t.old_text === null ? null : (JSON.parse(t.old_text) as JsonValue)
          this.fire(old === null ? 'created' : 'updated', group, item, old, JSON.parse(t.new_text), ctx)
        }
        return writeResultText(t.old_text, t.new_text)
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

    for (const name of ['state.getGroup', 'state.list']) {
      engine.registerFunction(
        name,
        (input) => store.getGroup(SCOPE, idField(inputObject(input, name, '{group_id}'), 'group_id', name)),
        {
          description:
            name === 'state.list'
              ? 'The original name of state.getGroup'
              : 'Reads every item of a group: {group_id} -> [value, ...] ordered by item id',
        },
      )
    }

    engine.registerFunction(
      'state.getGroupEntries',
      async (input) => {
        const group = idField(
          inputObject(input, 'state.getGroupEntries', '{group_id}'),
          'group_id',
          'state.getGroupEntries',
        )
        if (store.getGroupEntries !== undefined) return store.getGroupEntries(SCOPE, group)
        throw new IIIError(
          ErrorCode.InvalidArgument,
          `state.getGroupEntries: the ${store.name} store cannot list item ids`,
        )
      },
      {
        description:
          'Reads every item of a group with its id: {group_id} -> [{item_id, value}, ...] ordered by item id',
      },
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
        let text: RawJson | undefined
        try {
          if (store.updateText === undefined) r = await store.update(SCOPE, group, item, ops)
          else {
            const t = await store.updateText(SCOPE, group, item, ops)
            r = t
            text = writeResultText(t.old_text, t.new_text)
          }
        } catch (err) {
          throw withFunctionName(err, 'state.update')
        }
        if (r.new_value === null) {
          if (r.old_value !== null) this.fire('deleted', group, item, r.old_value, null, ctx)
        } else {
          this.fire(r.old_value === null ? 'created' : 'updated', group, item, r.old_value, r.new_value, ctx)
        }
        return text ?? r
      },
      { description: 'Changes one state item atomically: {group_id, item_id, ops} -> {old_value, new_value}' },
    )
  }

  /** True when a change has anyone to tell: a local `state` trigger or (in a cluster) the others. */
  private listening(): boolean {
    return this.triggers.size > 0 || this.shared !== null
  }

  /**
   * Runs every matching `state` trigger of this engine and tells the other engines, which run
   * theirs: each trigger lives on one engine, so it fires once per change cluster-wide. Never
   * waits for the triggers and never throws.
   */
  private fire(
    event_type: StateEventType,
    group_id: string,
    item_id: string,
    old_value: JsonValue | null,
    new_value: JsonValue | null,
    ctx: CallContext,
  ): void {
    this.fireLocal(event_type, group_id, item_id, old_value, new_value, ctx)
    if (this.shared) {
      const m: ClusterChange = { e: event_type, g: group_id, i: item_id, o: old_value, n: new_value }
      if (ctx.traceparent !== undefined) m.tp = ctx.traceparent
      if (ctx.baggage !== undefined) m.bg = ctx.baggage
      this.shared.publish(CHANNEL, JSON.stringify(m))
    }
  }

  private fireLocal(
    event_type: StateEventType,
    group_id: string,
    item_id: string,
    old_value: JsonValue | null,
    new_value: JsonValue | null,
    ctx: Pick<CallContext, 'traceparent' | 'baggage'>,
  ): void {
    const engine = this.engine
    if (!engine || this.triggers.size === 0) return
    const ours: TriggerRecord[] = []
    const original: TriggerRecord[] = []
    for (const t of this.triggers.values()) {
      const g = t.config.group_id
      if (g === undefined || g === null || g === group_id) (isOriginalStyle(t) ? original : ours).push(t)
    }
    const meta = (t: TriggerRecord) => ({ type: 'state', id: t.id })
    const payload = { type: 'state', event_type, group_id, item_id, old_value, new_value }
    fireTriggers(engine, ours, payload, meta, ctx)
    fireTriggers(engine, original, { ...payload, event_type: `state:${event_type}` }, meta, ctx)
  }

  async stop(): Promise<void> {
    const adapter = this.adapter
    this.adapter = null
    this.triggers.clear()
    await adapter?.close()
  }
}

/** `{old_value, new_value}` as JSON text built from the stored texts, exactly what `JSON.stringify` gives. */
function writeResultText(oldText: string | null, newText: string | null): RawJson {
  return new RawJson(`{"old_value":${oldText ?? 'null'},"new_value":${newText ?? 'null'}}`)
}
