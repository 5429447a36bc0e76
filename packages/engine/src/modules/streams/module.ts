/**
 * Streams: groups of JSON items that clients watch live over the stream socket.
 *
 * Built-ins (input -> result): `streams.get {stream_name,group_id,item_id}` -> item or null;
 * `streams.set {stream_name,group_id,item_id,data}` -> `{old_value,new_value}`;
 * `streams.delete` -> the old item or null; `streams.getGroup {stream_name,group_id}` ->
 * `[item...]`; `streams.listGroups {stream_name}` -> `[group_id...]`;
 * `streams.update {stream_name,group_id,item_id,ops}` -> `{old_value,new_value}` (atomic);
 * `streams.send {stream_name,group_id,item_id?,type,data?}` -> null (a custom event, not stored);
 * `streams.list` is `streams.getGroup` under the original's name.
 *
 * A stream item is a JSON object, stored and given back over the bridge as it was set. The
 * stream socket adds each item's `id` (its item id) to what it sends, so a group's `sync` and
 * every push tell clients which item is which. Every change is pushed to the socket's
 * subscribers and fires the `stream` triggers whose config matches; `streams:join` triggers may
 * refuse a subscription and `streams:leave` triggers hear when one ends. A stream may be served
 * by worker functions instead of the store (`backends.ts`).
 */

import { ErrorCode, IIIError } from '../../errors.js'
import type { SharedRedis } from '../../redis/shared.js'
import { fireTriggers } from '../fire.js'
import type { CallContext, EngineApi, EngineModule, TriggerRecord } from '../module.js'
import {
  byCodePoint,
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
import { type BackendOp, backendFunction, setChange } from './backends.js'
import { nextTimestamp, type ServerEvent, withId } from './messages.js'
import type { StreamsOptions } from './options.js'
import { type ConnectInfo, StreamSocketServer, type Subscription } from './socket.js'

/** How long the auth function and `streams:join` handlers may take before the answer is no. */
export const AUTH_TIMEOUT_MS = 5000

type Item = { [key: string]: JsonValue }

/** The cluster channel of stream changes and custom events. */
const CHANNEL = 'streams:changes'

/** A change or custom event as sent to the other engines. */
interface ClusterChange {
  s: string
  g: string
  i?: string
  ev: ServerEvent
  tp?: string
  bg?: string
}

export class StreamsModule implements EngineModule {
  readonly name = 'streams'
  private adapter: KvAdapter | null = null
  private engine: EngineApi | null = null
  private socket: StreamSocketServer | null = null
  private readonly triggers = new Map<string, TriggerRecord>()

  constructor(
    private readonly options: StreamsOptions,
    private readonly shared: SharedRedis | null = null,
  ) {}

  async start(engine: EngineApi): Promise<void> {
    this.engine = engine
    const store = createAdapter(this.options, engine.options.dataDir, 'streams', this.shared)
    this.adapter = store
    // Changes made through the other engines reach this engine's subscribers and triggers.
    this.shared?.subscribe(CHANNEL, (_from, body) => {
      const m = JSON.parse(body) as ClusterChange
      this.deliver(m.s, m.g, m.i, m.ev, { traceparent: m.tp, baggage: m.bg }, m.ev.type !== 'event')
    })
    this.registerTriggerTypes(engine)
    this.registerFunctions(engine, store)
    this.socket = new StreamSocketServer(
      {
        host: this.options.host ?? engine.options.host,
        port: this.options.port,
        maxQueue: this.options.max_queue,
        slowClientMs: this.options.slow_client_ms,
        headerTimeoutMs: engine.options.headerTimeoutMs,
        log: engine.log,
      },
      {
        authenticate: (info) => this.authenticate(info),
        authorizeJoin: (sub, context) => this.authorizeJoin(sub, context),
        snapshot: (sub) => this.snapshot(store, sub),
        left: (sub, context) => this.left(sub, context),
      },
    )
    await this.socket.start()
  }

  /** Clients connected to the stream socket (this engine's), for the metrics. */
  clientCount(): number {
    return this.socket === null ? 0 : this.socket.clients.size
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
    const backend = (op: BackendOp, stream: string) => backendFunction(engine, op, stream)

    engine.registerFunction(
      'streams.get',
      (input) => {
        const { o, stream, group, item } = target('streams.get', input, keyShape)
        const fn = backend('get', stream)
        return fn === undefined ? store.get(stream, group, item) : engine.invoke(fn, o)
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
        const fn = backend('set', stream)
        if (fn !== undefined) {
          const answer = await engine.invoke(fn, o)
          const change = setChange(answer, data as Item)
          this.changed(stream, group, item, change.type, change.value, ctx)
          return answer
        }
        const r = await store.set(stream, group, item, data as Item)
        this.changed(stream, group, item, r.old_value === null ? 'create' : 'update', r.new_value, ctx)
        return r
      },
      { description: 'Stores one stream item and pushes it to subscribers -> {old_value, new_value}' },
    )

    engine.registerFunction(
      'streams.delete',
      async (input, ctx) => {
        const { o, stream, group, item } = target('streams.delete', input, keyShape)
        const fn = backend('delete', stream)
        if (fn !== undefined) {
          const answer = (await engine.invoke(fn, o)) as JsonValue | null
          this.changed(stream, group, item, 'delete', answer ?? {}, ctx)
          return answer
        }
        const old = await store.delete(stream, group, item)
        if (old !== null) this.changed(stream, group, item, 'delete', old, ctx)
        return old
      },
      { description: `Removes one stream item: ${keyShape} -> the old item or null` },
    )

    for (const name of ['streams.getGroup', 'streams.list']) {
      engine.registerFunction(
        name,
        (input) => {
          const { o, stream, group } = target(name, input, '{stream_name, group_id}', false)
          const fn = backend('getGroup', stream)
          return fn === undefined ? store.getGroup(stream, group) : engine.invoke(fn, o)
        },
        {
          description:
            name === 'streams.list'
              ? 'The original name of streams.getGroup'
              : 'Reads every item of a group: {stream_name, group_id} -> [item, ...] ordered by id',
        },
      )
    }

    engine.registerFunction(
      'streams.listStreams',
      async (input) => {
        if (input !== undefined && input !== null) inputObject(input, 'streams.listStreams', '{}')
        const names = new Set(await (store.listScopes?.() ?? []))
        for (const t of this.triggers.values()) names.add(t.config.stream_name as string)
        return [...names].sort(byCodePoint)
      },
      {
        description:
          'Lists the streams that hold items, and those stream triggers name: {} -> [stream_name, ...] (code point order)',
      },
    )

    engine.registerFunction(
      'streams.listGroups',
      (input) => {
        const o = inputObject(input, 'streams.listGroups', '{stream_name}')
        const stream = idField(o, 'stream_name', 'streams.listGroups')
        const fn = backend('listGroups', stream)
        return fn === undefined ? store.listGroups(stream) : engine.invoke(fn, o)
      },
      { description: 'Lists the groups of a stream that hold items: {stream_name} -> [group_id, ...]' },
    )

    engine.registerFunction(
      'streams.update',
      async (input, ctx) => {
        const { o, stream, group, item } = target('streams.update', input, '{stream_name, group_id, item_id, ops}')
        const ops = parseOps(o.ops, 'streams.update')
        const fn = backend('update', stream)
        if (fn !== undefined) {
          const answer = (await engine.invoke(fn, o)) as WriteResult
          if (answer?.new_value != null) {
            this.changed(stream, group, item, answer.old_value == null ? 'create' : 'update', answer.new_value, ctx)
          } else if (answer?.old_value != null) this.changed(stream, group, item, 'delete', answer.old_value, ctx)
          return answer
        }
        const finish = (v: JsonValue | null): JsonValue | null => {
          if (v === null || (typeof v === 'object' && !Array.isArray(v))) return v
          throw new IIIError(ErrorCode.InvalidArgument, `streams.update: the result must be an object, not ${kind(v)}`)
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
        // `event` is where the published clients read a custom event; `data` is ours.
        const custom = { type, data }
        const event: ServerEvent = { type: 'event', data: custom, event: custom }
        this.socket?.publish(stream, group, item, event)
        this.shared?.publish(CHANNEL, JSON.stringify({ s: stream, g: group, i: item, ev: event }))
        return null
      },
      { description: 'Pushes a custom event {type, data} to the subscribers of a group or item; nothing is stored' },
    )
  }

  /**
   * A stored change: pushed to this engine's socket subscribers, fires this engine's matching
   * `stream` triggers, and goes to the other engines, which do the same for theirs. Each
   * trigger lives on one engine, so it fires once per change whichever engine made it.
   */
  private changed(
    stream_name: string,
    group_id: string,
    item_id: string,
    type: 'create' | 'update' | 'delete',
    data: JsonValue | null,
    ctx: CallContext,
  ): void {
    const event: ServerEvent = { type, data: withId(data, item_id) }
    this.deliver(stream_name, group_id, item_id, event, ctx, true)
    if (this.shared) {
      const m: ClusterChange = { s: stream_name, g: group_id, i: item_id, ev: event }
      if (ctx.traceparent !== undefined) m.tp = ctx.traceparent
      if (ctx.baggage !== undefined) m.bg = ctx.baggage
      this.shared.publish(CHANNEL, JSON.stringify(m))
    }
  }

  /** Pushes an event to this engine's subscribers and, for a change, fires its triggers. */
  private deliver(
    stream_name: string,
    group_id: string,
    item_id: string | undefined,
    event: ServerEvent,
    ctx: Pick<CallContext, 'traceparent' | 'baggage'>,
    fire: boolean,
  ): void {
    const timestamp = nextTimestamp()
    this.socket?.publish(stream_name, group_id, item_id, event, timestamp)
    const engine = this.engine
    if (!engine || !fire || item_id === undefined || this.triggers.size === 0) return
    const targets: TriggerRecord[] = []
    for (const t of this.triggers.values()) {
      const c = t.config
      if (c.stream_name !== stream_name) continue
      if (c.group_id !== undefined && c.group_id !== null && c.group_id !== group_id) continue
      if (c.item_id !== undefined && c.item_id !== null && c.item_id !== item_id) continue
      targets.push(t)
    }
    if (targets.length === 0) return
    // Ours, then the original's camelCase shape (the stream socket's message) beside it.
    const payload = {
      stream_name,
      group_id,
      item_id,
      event,
      type: 'stream',
      timestamp,
      streamName: stream_name,
      groupId: group_id,
      id: item_id,
    }
    fireTriggers(engine, targets, payload, (t) => ({ type: 'stream', id: t.id }), ctx)
  }

  /** What a `sync` carries: the item, or the group's items, each with its `id`. */
  private async snapshot(store: KvAdapter, sub: Subscription): Promise<unknown> {
    const engine = this.engine
    const { streamName: stream, groupId: group, id } = sub
    const op = id === undefined ? 'getGroup' : 'get'
    const fn = engine ? backendFunction(engine, op, stream) : undefined
    if (fn !== undefined && engine) {
      const input = { stream_name: stream, group_id: group, ...(id !== undefined && { item_id: id }) }
      const answer = await engine.invoke(fn, input, { timeoutMs: AUTH_TIMEOUT_MS })
      if (id !== undefined) return withId(answer ?? null, id)
      return Array.isArray(answer) ? answer : []
    }
    if (id !== undefined) return withId(await store.get(stream, group, id), id)
    if (store.getGroupEntries === undefined) return store.getGroup(stream, group)
    return (await store.getGroupEntries(stream, group)).map((e) => withId(e.value, e.item_id))
  }

  /**
   * Runs the configured auth function; anything but a truthy answer in time is a refusal. An
   * answer shaped `{context}` (the original's `StreamAuthResult`) accepts the connection with
   * that context; any other truthy answer is the context itself.
   */
  private async authenticate(info: ConnectInfo): Promise<{ context: unknown } | undefined> {
    const path = this.options.auth_function
    const engine = this.engine
    if (path === undefined) return { context: undefined }
    if (!engine) return undefined
    try {
      const result = await withTimeout(engine.invoke(path, info, { timeoutMs: AUTH_TIMEOUT_MS }), AUTH_TIMEOUT_MS)
      if (result === null || result === undefined || result === false) return undefined
      if (isContextWrapper(result)) return { context: result.context ?? undefined }
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

  drain(): void {
    this.socket?.drain()
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
  // `id` is the original's name for the item id.
  if (sub.id !== undefined) p.item_id = p.id = sub.id
  if (context !== undefined) p.context = context
  return p
}

/** `{context}` and nothing else: the original's auth result. */
function isContextWrapper(value: unknown): value is { context?: unknown } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const keys = Object.keys(value)
  return keys.length === 1 && keys[0] === 'context'
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IIIError(ErrorCode.InvocationTimeout, `no answer within ${ms} ms`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}
