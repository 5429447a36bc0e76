/**
 * Streams: groups of JSON items that clients watch live over the stream socket.
 *
 * Built-ins (input -> result): `streams.get {stream_name,group_id,item_id}` -> item or null;
 * `streams.set {stream_name,group_id,item_id,data}` -> `{old_value,new_value}`;
 * `streams.delete` -> the old item or null; `streams.getGroup {stream_name,group_id}` ->
 * `[item...]`; `streams.listGroups {stream_name}` -> `[group_id...]`;
 * `streams.update {stream_name,group_id,item_id,ops}` -> `{old_value,new_value}` (atomic);
 * `streams.send {stream_name,group_id,item_id?,type,data?}` -> null (a custom event, not stored).
 *
 * A stream item is a JSON object; the engine stores it with `id` set to its item id, so a
 * group's `sync` tells clients which item is which. Every change is pushed to the socket's
 * subscribers and fires the `stream` triggers whose config matches; `streams:join` triggers may
 * refuse a subscription and `streams:leave` triggers hear when one ends.
 */

import { ErrorCode, IIIError } from '../../errors.js'
import { fireTriggers } from '../fire.js'
import type { CallContext, EngineApi, EngineModule, TriggerRecord } from '../module.js'
import {
  createAdapter,
  idField,
  inputObject,
  type JsonValue,
  type KvAdapter,
  kind,
  optionalIdField,
  parseOps,
  type WriteResult,
  withFunctionName,
} from '../store/index.js'
import type { ServerEvent } from './messages.js'
import type { StreamsOptions } from './options.js'
import { type ConnectInfo, StreamSocketServer, type Subscription } from './socket.js'

/** How long the auth function and `streams:join` handlers may take before the answer is no. */
export const AUTH_TIMEOUT_MS = 5000

type Item = { [key: string]: JsonValue }

export class StreamsModule implements EngineModule {
  readonly name = 'streams'
  private adapter: KvAdapter | null = null
  private engine: EngineApi | null = null
  private socket: StreamSocketServer | null = null
  private readonly triggers = new Map<string, TriggerRecord>()

  constructor(private readonly options: StreamsOptions) {}

  async start(engine: EngineApi): Promise<void> {
    this.engine = engine
    const store = createAdapter(this.options, engine.options.dataDir, 'streams')
    this.adapter = store
    this.registerTriggerTypes(engine)
    this.registerFunctions(engine, store)
    this.socket = new StreamSocketServer(
      {
        host: this.options.host ?? engine.options.host,
        port: this.options.port,
        maxQueue: this.options.max_queue,
        slowClientMs: this.options.slow_client_ms,
        log: engine.log,
      },
      {
        authenticate: (info) => this.authenticate(info),
        authorizeJoin: (sub, context) => this.authorizeJoin(sub, context),
        snapshot: (sub) =>
          sub.id === undefined
            ? store.getGroup(sub.streamName, sub.groupId)
            : store.get(sub.streamName, sub.groupId, sub.id),
        left: (sub, context) => this.left(sub, context),
      },
    )
    await this.socket.start()
  }

  addresses(): Record<string, string> {
    return this.socket ? { streams: this.socket.address() } : {}
  }

  private registerTriggerTypes(engine: EngineApi): void {
    engine.registerTriggerType(
      'stream',
      {
        register: (t) => {
          const bad = (m: string) => new IIIError(ErrorCode.InvalidTrigger, `stream trigger ${t.id}: ${m}`)
          const c = t.config
          if (typeof c.stream_name !== 'string' || c.stream_name === '')
            throw bad('config.stream_name must be a non-empty string')
          for (const f of ['group_id', 'item_id'] as const) {
            if (c[f] !== undefined && c[f] !== null && (typeof c[f] !== 'string' || c[f] === '')) {
              throw bad(`config.${f} must be a non-empty string when given`)
            }
          }
          this.triggers.set(t.id, t)
        },
        unregister: (t) => {
          this.triggers.delete(t.id)
        },
      },
      'Runs the function after every change in a stream (config: stream_name, group_id?, item_id?)',
    )
    const noop = { register: () => {}, unregister: () => {} }
    engine.registerTriggerType(
      'streams:join',
      noop,
      'Runs when a stream socket client joins; a result {unauthorized: true} refuses the join',
    )
    engine.registerTriggerType('streams:leave', noop, 'Runs when a stream socket subscription ends')
  }

  private registerFunctions(engine: EngineApi, store: KvAdapter): void {
    const target = (fn: string, input: unknown, shape: string, withItem = true) => {
      const o = inputObject(input, fn, shape)
      const stream = idField(o, 'stream_name', fn)
      const group = idField(o, 'group_id', fn)
      return { o, stream, group, item: withItem ? idField(o, 'item_id', fn) : '' }
    }
    const keyShape = '{stream_name, group_id, item_id}'

    engine.registerFunction(
      'streams.get',
      (input) => {
        const { stream, group, item } = target('streams.get', input, keyShape)
        return store.get(stream, group, item)
      },
      { description: `Reads one stream item: ${keyShape} -> item or null` },
    )

    engine.registerFunction(
      'streams.set',
      async (input, ctx) => {
        const { o, stream, group, item } = target('streams.set', input, '{stream_name, group_id, item_id, data}')
        const data = o.data
        if (data === undefined) throw new IIIError(ErrorCode.InvalidArgument, 'streams.set: data is required')
        if (typeof data !== 'object' || data === null || Array.isArray(data)) {
          throw new IIIError(ErrorCode.InvalidArgument, `streams.set: data must be an object, not ${kind(data)}`)
        }
        const r = await store.set(stream, group, item, { ...(data as Item), id: item })
        this.changed(stream, group, item, r.old_value === null ? 'create' : 'update', r.new_value, ctx)
        return r
      },
      { description: 'Stores one stream item and pushes it to subscribers -> {old_value, new_value}' },
    )

    engine.registerFunction(
      'streams.delete',
      async (input, ctx) => {
        const { stream, group, item } = target('streams.delete', input, keyShape)
        const old = await store.delete(stream, group, item)
        if (old !== null) this.changed(stream, group, item, 'delete', old, ctx)
        return old
      },
      { description: `Removes one stream item: ${keyShape} -> the old item or null` },
    )

    engine.registerFunction(
      'streams.getGroup',
      (input) => {
        const { stream, group } = target('streams.getGroup', input, '{stream_name, group_id}', false)
        return store.getGroup(stream, group)
      },
      { description: 'Reads every item of a group: {stream_name, group_id} -> [item, ...] ordered by id' },
    )

    engine.registerFunction(
      'streams.listGroups',
      (input) =>
        store.listGroups(
          idField(inputObject(input, 'streams.listGroups', '{stream_name}'), 'stream_name', 'streams.listGroups'),
        ),
      { description: 'Lists the groups of a stream that hold items: {stream_name} -> [group_id, ...]' },
    )

    engine.registerFunction(
      'streams.update',
      async (input, ctx) => {
        const { o, stream, group, item } = target('streams.update', input, '{stream_name, group_id, item_id, ops}')
        const ops = parseOps(o.ops, 'streams.update')
        const finish = (v: JsonValue | null): JsonValue | null => {
          if (v === null) return null
          if (typeof v !== 'object' || Array.isArray(v)) {
            throw new IIIError(
              ErrorCode.InvalidArgument,
              `streams.update: the result must be an object, not ${kind(v)}`,
            )
          }
          return { ...v, id: item }
        }
        let r: WriteResult
        try {
          r = await store.update(stream, group, item, ops, finish)
        } catch (err) {
          throw withFunctionName(err, 'streams.update')
        }
        if (r.new_value !== null)
          this.changed(stream, group, item, r.old_value === null ? 'create' : 'update', r.new_value, ctx)
        else if (r.old_value !== null) this.changed(stream, group, item, 'delete', r.old_value, ctx)
        return r
      },
      { description: 'Changes one stream item atomically and pushes it -> {old_value, new_value}' },
    )

    engine.registerFunction(
      'streams.send',
      (input) => {
        const fn = 'streams.send'
        const o = inputObject(input, fn, '{stream_name, group_id, item_id?, type, data?}')
        const stream = idField(o, 'stream_name', fn)
        const group = idField(o, 'group_id', fn)
        const item = optionalIdField(o, 'item_id', fn)
        const type = idField(o, 'type', fn)
        const data = o.data === undefined ? null : o.data
        const size = Buffer.byteLength(JSON.stringify(data))
        if (size > this.options.max_value_bytes) {
          throw new IIIError(
            ErrorCode.PayloadTooLarge,
            `${fn}: data is ${size} bytes as JSON, over the limit of ${this.options.max_value_bytes}`,
          )
        }
        this.socket?.publish(stream, group, item, { type: 'event', data: { type, data } })
        return null
      },
      { description: 'Pushes a custom event {type, data} to the subscribers of a group or item; nothing is stored' },
    )
  }

  /** Pushes a stored change to socket subscribers and fires matching `stream` triggers. */
  private changed(
    stream_name: string,
    group_id: string,
    item_id: string,
    type: 'create' | 'update' | 'delete',
    data: JsonValue | null,
    ctx: CallContext,
  ): void {
    const event: ServerEvent = { type, data }
    this.socket?.publish(stream_name, group_id, item_id, event)
    const engine = this.engine
    if (!engine || this.triggers.size === 0) return
    const targets: TriggerRecord[] = []
    for (const t of this.triggers.values()) {
      const c = t.config
      if (c.stream_name !== stream_name) continue
      if (c.group_id !== undefined && c.group_id !== null && c.group_id !== group_id) continue
      if (c.item_id !== undefined && c.item_id !== null && c.item_id !== item_id) continue
      targets.push(t)
    }
    if (targets.length === 0) return
    const payload = { stream_name, group_id, item_id, event }
    fireTriggers(engine, targets, payload, (t) => ({ type: 'stream', id: t.id }), ctx)
  }

  /** Runs the configured auth function; anything but a truthy answer in time is a refusal. */
  private async authenticate(info: ConnectInfo): Promise<{ context: unknown } | undefined> {
    const path = this.options.auth_function
    const engine = this.engine
    if (path === undefined) return { context: undefined }
    if (!engine) return undefined
    try {
      const result = await withTimeout(engine.invoke(path, info, { timeoutMs: AUTH_TIMEOUT_MS }), AUTH_TIMEOUT_MS)
      if (result === null || result === undefined || result === false) return undefined
      return { context: result === true ? undefined : result }
    } catch (err) {
      engine.log.warn(`stream auth function ${path} failed; connection refused: ${(err as Error)?.message ?? err}`)
      return undefined
    }
  }

  /** Asks every `streams:join` trigger; a refusal, an error or a timeout refuses the join. */
  private async authorizeJoin(sub: Subscription, context: unknown): Promise<boolean> {
    const engine = this.engine
    if (!engine) return false
    const triggers = [...engine.triggersOfType('streams:join')]
    if (triggers.length === 0) return true
    const payload = joinPayload(sub, context)
    const answers = await Promise.all(
      triggers.map((t) =>
        withTimeout(
          engine.invoke(t.function_path, payload, {
            trigger: { type: 'streams:join', id: t.id },
            timeoutMs: AUTH_TIMEOUT_MS,
          }),
          AUTH_TIMEOUT_MS,
        ).then(
          (r) => !(typeof r === 'object' && r !== null && (r as { unauthorized?: unknown }).unauthorized === true),
          (err) => {
            // A condition that says no means this handler does not apply to the join.
            if (err?.code === ErrorCode.ConditionFailed) return true
            engine.log.warn(`streams:join trigger ${t.id} failed; join refused: ${err?.message ?? err}`)
            return false
          },
        ),
      ),
    )
    return answers.every(Boolean)
  }

  private left(sub: Subscription, context: unknown): void {
    const engine = this.engine
    if (!engine) return
    const payload = joinPayload(sub, context)
    for (const t of engine.triggersOfType('streams:leave')) {
      engine.invoke(t.function_path, payload, { trigger: { type: 'streams:leave', id: t.id } }).catch((err) => {
        engine.log.debug(`streams:leave trigger ${t.id}: ${err?.message ?? err}`)
      })
    }
  }

  async stop(): Promise<void> {
    const socket = this.socket
    const adapter = this.adapter
    this.socket = null
    this.adapter = null
    this.triggers.clear()
    await socket?.stop()
    await adapter?.close()
  }
}

function joinPayload(sub: Subscription, context: unknown): Record<string, unknown> {
  const p: Record<string, unknown> = {
    subscription_id: sub.subscriptionId,
    stream_name: sub.streamName,
    group_id: sub.groupId,
  }
  if (sub.id !== undefined) p.item_id = sub.id
  if (context !== undefined) p.context = context
  return p
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IIIError(ErrorCode.InvocationTimeout, `no answer within ${ms} ms`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}
