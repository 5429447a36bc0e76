/**
 * A project's streams: each `*.stream.ts` becomes a {@link ProjectStream} at `ctx.streams[name]`
 * (checked against its schema), and its `onJoin` / `onLeave` become functions bound to the
 * engine's `streams:join` / `streams:leave` triggers. `authenticateStream` from
 * `motia.config.ts` becomes the stream socket's auth function {@link STREAM_AUTH_FUNCTION}.
 */
import { type Bridge, type InvocationContext, type Registration, Stream } from '@iii-dev/sdk'
import { createFlowContext } from './context.js'
import { type Check, compileSchema } from './schema.js'
import { normalizeInput } from './triggers.js'
import type { AuthenticateStream, FlowContext, MotiaStream, StreamConfig, StreamSubscription } from './types.js'

/** The function the engine's `modules.streams.auth_function` must name for `authenticateStream`. */
export const STREAM_AUTH_FUNCTION = 'motia.authenticateStream'

/** A stream whose items are checked against its schema before they are stored. */
export class ProjectStream<T = any> extends Stream<T> implements MotiaStream<T> {
  constructor(
    name: string,
    bridge: Bridge,
    private readonly check?: Check,
  ) {
    super(name, bridge)
  }

  override set(groupId: string, itemId: string, data: T) {
    if (this.check === undefined) return super.set(groupId, itemId, data)
    const r = this.check(data)
    if (!r.ok) {
      const first = r.issues[0]
      const at = first?.path?.length ? ` at ${first.path.join('.')}` : ''
      return Promise.reject(
        new TypeError(`stream ${this.streamName}: invalid item${at}: ${first?.message ?? 'schema mismatch'}`),
      )
    }
    return super.set(groupId, itemId, r.value as T)
  }

  override send(groupId: string, type: string, data?: unknown, itemId?: string): Promise<null>
  override send(channel: { groupId: string; id?: string }, event: { type: string; data?: unknown }): Promise<null>
  override send(a: string | { groupId: string; id?: string }, b: unknown, data?: unknown, itemId?: string) {
    if (typeof a === 'object' && a !== null) {
      const e = (b ?? {}) as { type: string; data?: unknown }
      return super.send(a.groupId, e.type, e.data, a.id)
    }
    return super.send(a, b as string, data, itemId)
  }
}

/** The stream of a config: checked when it has a schema. @throws when its JSON Schema does not compile */
export function createProjectStream(config: StreamConfig, bridge: Bridge): ProjectStream {
  const check = config.schema === undefined ? undefined : compileSchema(config.schema)
  return new ProjectStream(config.name, bridge, check)
}

interface JoinPayload {
  subscription_id?: string
  stream_name?: string
  group_id?: string
  item_id?: string
  id?: string
  context?: unknown
}

function subscriptionOf(p: JoinPayload): StreamSubscription {
  const s: StreamSubscription = {
    groupId: p.group_id ?? '',
    streamName: p.stream_name ?? '',
    subscriptionId: p.subscription_id ?? '',
  }
  const id = p.item_id ?? p.id
  if (id !== undefined) s.id = id
  return s
}

/** A FlowContext for code that no step trigger runs (stream hooks, stream auth). */
function hookContext(
  bridge: Bridge,
  streams: Record<string, MotiaStream>,
  name: string,
  inv: InvocationContext,
  data: unknown,
): FlowContext {
  const trigger = { type: 'stream' as const, index: 0, stream_name: name }
  return createFlowContext({
    bridge,
    step: name,
    emits: undefined,
    trigger,
    input: normalizeInput(trigger, data),
    invocation: inv,
    streams,
  })
}

/**
 * Registers `onJoin` / `onLeave` of a stream as `motia.streams.<name>:join|leave`, bound to
 * `streams:join` / `streams:leave` (which fire for every stream: each function answers only
 * for its own). `onJoin` refuses with `{unauthorized: true}` or `false`.
 */
export function registerStreamHooks(
  bridge: Bridge,
  config: StreamConfig,
  streams: Record<string, MotiaStream>,
): Registration[] {
  const refs: Registration[] = []
  const hooks = [
    ['join', config.onJoin],
    ['leave', config.onLeave],
  ] as const
  for (const [kind, hook] of hooks) {
    if (typeof hook !== 'function') continue
    const path = `motia.streams.${config.name}:${kind}`
    refs.push(
      bridge.registerFunction({
        function_path: path,
        description: `on${kind === 'join' ? 'Join' : 'Leave'} of stream ${config.name}`,
        metadata: { motia: { stream: config.name, hook: kind } },
        handler: async (data: JoinPayload, inv: InvocationContext) => {
          if (data?.stream_name !== config.name) return kind === 'join' ? { unauthorized: false } : null
          const ctx = hookContext(bridge, streams, config.name, inv, data)
          const result = await (hook as (...a: unknown[]) => unknown)(subscriptionOf(data), ctx, data.context)
          if (kind === 'leave') return null
          const refused =
            result === false ||
            (typeof result === 'object' && result !== null && (result as { unauthorized?: unknown }).unauthorized)
          return { unauthorized: Boolean(refused) }
        },
      }),
    )
    const trigger = bridge.registerTrigger({ trigger_type: `streams:${kind}`, function_path: path, config: {} })
    refs.unshift(trigger)
  }
  return refs
}

/** The query as lists of values (the original's `queryParams`). */
function asLists(q: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  if (typeof q !== 'object' || q === null) return out
  for (const [k, v] of Object.entries(q)) out[k] = Array.isArray(v) ? v.map(String) : [String(v)]
  return out
}

/**
 * Registers `authenticateStream` as {@link STREAM_AUTH_FUNCTION}. `{context}` is unwrapped
 * (the engine keeps `context` for the connection); `{}` or `true` accepts without a context;
 * `null`, `false`, `undefined` or a throw refuses (the engine answers 401).
 */
export function registerStreamAuth(
  bridge: Bridge,
  authenticate: AuthenticateStream,
  streams: Record<string, MotiaStream>,
): Registration {
  return bridge.registerFunction({
    function_path: STREAM_AUTH_FUNCTION,
    description: 'authenticateStream of motia.config',
    handler: async (data: Record<string, unknown>, inv: InvocationContext) => {
      const input = {
        headers: (data?.headers ?? {}) as Record<string, string>,
        path: String(data?.path ?? ''),
        queryParams: asLists(data?.query_params),
        query_params: (data?.query_params ?? {}) as Record<string, string | string[]>,
        addr: String(data?.addr ?? ''),
      }
      const ctx = hookContext(bridge, streams, 'authenticateStream', inv, data)
      const result = await authenticate(input, ctx)
      if (result === null || result === undefined || result === false) return null
      if (typeof result === 'object' && 'context' in result) return result.context ?? true
      return result
    },
  })
}
