/**
 * Streams served by worker functions: the original SDK's `createStream(name, backend)`
 * registers `streams.get(<name>)`, `streams.set(<name>)`, `streams.delete(<name>)`,
 * `streams.getGroup(<name>)` and `streams.listGroups(<name>)`. When a worker function of that
 * name exists, the built-in operation on that stream is handed to it (same input, its result
 * returned as is) instead of the engine's store; subscribers are still told of every change
 * and stream triggers still fire. Each operation is looked up on its own, so a stream whose
 * backend registers only some of them is served by the store for the rest.
 */
import type { EngineApi } from '../module.js'
import type { JsonValue } from '../store/index.js'

/** The operations a custom stream backend may serve. */
export type BackendOp = 'get' | 'set' | 'delete' | 'getGroup' | 'listGroups' | 'update'

/** The worker function serving `op` on `stream`, or undefined when the store serves it. */
export function backendFunction(engine: EngineApi, op: BackendOp, stream: string): string | undefined {
  const path = `streams.${op}(${stream})`
  return engine.hasFunction(path) ? path : undefined
}

/** What a backend's `set` answer says about the change, for the socket and the triggers. */
export interface BackendChange {
  type: 'create' | 'update'
  value: JsonValue | null
}

/**
 * Reads a backend's `set` result: `{old_value, new_value}` (ours and the later original),
 * `{existed, data}` (the original `StreamSetResult`), or anything else, which is taken as an
 * update to the data that was sent.
 */
export function setChange(result: unknown, sent: JsonValue): BackendChange {
  if (typeof result === 'object' && result !== null && !Array.isArray(result)) {
    const r = result as Record<string, JsonValue | undefined>
    if ('new_value' in r || 'old_value' in r) {
      return { type: r.old_value == null ? 'create' : 'update', value: r.new_value ?? sent }
    }
    if (typeof r.existed === 'boolean') return { type: r.existed ? 'update' : 'create', value: r.data ?? sent }
  }
  return { type: 'update', value: sent }
}
