/**
 * Triggers: checking a step's config, naming its functions, mapping each trigger onto the
 * engine's trigger config, and normalizing what a trigger delivers into a TriggerInput.
 */
import type { JsonObject, TriggerMeta } from '@iii-dev/sdk'
import { isSchema } from './schema.js'
import type {
  ApiRequest,
  Condition,
  EmitDeclaration,
  StepConfig,
  Trigger,
  TriggerInput,
  TriggerMetadata,
} from './types.js'

/** A step file or stream file that cannot be used; the message names the file and the field. */
export class MotiaConfigError extends Error {
  override name = 'MotiaConfigError'
}

const TYPES = new Set(['api', 'event', 'cron', 'state', 'stream'])
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'])

/** `steps.{name}:trigger:{index}` */
export function triggerPath(step: string, index: number): string {
  return `steps.${step}:trigger:${index}`
}

/** `...:condition` for the first condition of a trigger, `...:condition:{k}` for the next ones. */
export function conditionPath(step: string, index: number, k: number): string {
  return k === 0 ? `${triggerPath(step, index)}:condition` : `${triggerPath(step, index)}:condition:${k}`
}

/** The conditions of a trigger as a list (none, one, or several in order). */
export function conditionsOf(trigger: Trigger): Condition[] {
  const c = trigger.condition
  if (c === undefined || c === null) return []
  return Array.isArray(c) ? [...c] : [c as Condition]
}

function str(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0
}

/** Throws a {@link MotiaConfigError} with one sentence when `config` is not a usable step config. */
export function checkStepConfig(config: unknown, where: string): asserts config is StepConfig {
  const fail = (msg: string): never => {
    throw new MotiaConfigError(`${where}: ${msg}`)
  }
  if (typeof config !== 'object' || config === null) fail('does not export a `config` object')
  const c = config as Record<string, unknown>
  if (!str(c.name) || !/^[A-Za-z0-9_.-]+$/.test(c.name)) {
    fail('config.name must be a non-empty string of letters, digits, "_", "-" or "."')
  }
  if (!Array.isArray(c.triggers) || c.triggers.length === 0) fail('config.triggers must be a non-empty array')
  for (const [k, f] of [
    ['flows', c.flows],
    ['virtualSubscribes', c.virtualSubscribes],
  ] as const) {
    if (f !== undefined && (!Array.isArray(f) || !f.every(str))) fail(`config.${k} must be an array of strings`)
  }
  for (const [k, f] of [
    ['emits', c.emits],
    ['virtualEmits', c.virtualEmits],
  ] as const) {
    const ok = (e: unknown) => str(e) || (typeof e === 'object' && e !== null && str((e as { topic?: unknown }).topic))
    if (f !== undefined && (!Array.isArray(f) || !f.every(ok))) {
      fail(`config.${k} must be an array of topics (strings or {topic})`)
    }
  }
  ;(c.triggers as unknown[]).forEach((t, i) => {
    const at = `config.triggers[${i}]`
    if (typeof t !== 'object' || t === null) fail(`${at} must be an object`)
    const tr = t as Record<string, unknown>
    if (!TYPES.has(tr.type as string)) fail(`${at}.type must be one of api, event, cron, state, stream`)
    if (tr.type === 'api') {
      if (!str(tr.path) || !tr.path.startsWith('/')) fail(`${at}.path must start with "/"`)
      if (!str(tr.method) || !METHODS.has(tr.method.toUpperCase())) fail(`${at}.method must be an HTTP method`)
      if (
        tr.middleware !== undefined &&
        (!Array.isArray(tr.middleware) || !tr.middleware.every((m) => typeof m === 'function'))
      ) {
        fail(`${at}.middleware must be an array of functions`)
      }
      for (const s of ['bodySchema', 'querySchema']) {
        if (tr[s] !== undefined && !isSchema(tr[s])) fail(`${at}.${s} must be a Zod schema or a JSON Schema object`)
      }
      const rs = tr.responseSchema
      if (rs !== undefined) {
        if (typeof rs !== 'object' || rs === null || Array.isArray(rs)) fail(`${at}.responseSchema must be an object`)
        for (const [status, schema] of Object.entries(rs as object)) {
          if (!/^[1-5]\d\d$/.test(status)) fail(`${at}.responseSchema: "${status}" is not an HTTP status code`)
          if (!isSchema(schema)) fail(`${at}.responseSchema[${status}] must be a Zod schema or a JSON Schema object`)
        }
      }
    } else if (tr.type === 'event') {
      if (!str(tr.topic)) fail(`${at}.topic must be a non-empty string`)
      if (tr.input !== undefined && !isSchema(tr.input))
        fail(`${at}.input must be a Zod schema or a JSON Schema object`)
    } else if (tr.type === 'cron') {
      if (!str(tr.expression)) fail(`${at}.expression must be a non-empty string`)
    } else if (tr.type === 'stream') {
      if (!str(tr.streamName)) fail(`${at}.streamName must be a non-empty string`)
    }
    const cond = tr.condition
    if (
      cond !== undefined &&
      typeof cond !== 'function' &&
      !(Array.isArray(cond) && cond.every((f) => typeof f === 'function'))
    ) {
      fail(`${at}.condition must be a function or an array of functions`)
    }
  })
}

/** The topic names of `emits` / `virtualEmits` entries (strings or `{topic}`). */
export function topicsOf(list: readonly EmitDeclaration[] | undefined): string[] | undefined {
  return list?.map((e) => (typeof e === 'string' ? e : e.topic))
}

/** The engine's `trigger_type` and `config` for one Motia trigger. */
export function engineTrigger(trigger: Trigger): { trigger_type: string; config: JsonObject } {
  switch (trigger.type) {
    case 'api':
      return { trigger_type: 'api', config: { api_path: trigger.path, http_method: trigger.method.toUpperCase() } }
    case 'event': {
      // The retry fields go to the engine as they are; it validates them (docs/events.md).
      const config: JsonObject = { topic: trigger.topic }
      for (const k of ['max_attempts', 'backoff', 'timeout_ms', 'concurrency', 'fifo'] as const) {
        if (trigger[k] !== undefined) config[k] = trigger[k]
      }
      return { trigger_type: 'event', config }
    }
    case 'cron': {
      const config: JsonObject = { expression: trigger.expression }
      if (trigger.timezone !== undefined) config.timezone = trigger.timezone
      return { trigger_type: 'cron', config }
    }
    case 'state':
      return { trigger_type: 'state', config: trigger.groupId === undefined ? {} : { group_id: trigger.groupId } }
    case 'stream': {
      const config: JsonObject = { stream_name: trigger.streamName }
      if (trigger.groupId !== undefined) config.group_id = trigger.groupId
      if (trigger.itemId !== undefined) config.item_id = trigger.itemId
      return { trigger_type: 'stream', config }
    }
  }
}

/**
 * `ctx.trigger`: the declared trigger's fields with its index (the step config is the source
 * of truth, so a direct call gets the same), plus the engine's trigger `id` when a trigger ran it.
 */
export function triggerMetadata(trigger: Trigger, index: number, engine?: TriggerMeta): TriggerMetadata {
  const meta: TriggerMetadata = { type: trigger.type, index }
  if (typeof engine?.id === 'string') meta.id = engine.id
  switch (trigger.type) {
    case 'api':
      meta.path = trigger.path
      meta.method = trigger.method.toUpperCase()
      break
    case 'event':
      meta.topic = trigger.topic
      break
    case 'cron':
      meta.expression = trigger.expression
      break
    case 'state':
      if (trigger.groupId !== undefined) meta.group_id = trigger.groupId
      break
    case 'stream':
      meta.stream_name = trigger.streamName
      if (trigger.groupId !== undefined) meta.group_id = trigger.groupId
      if (trigger.itemId !== undefined) meta.item_id = trigger.itemId
      break
  }
  return meta
}

/** An ApiRequest with every field present, whatever a direct caller sent. */
function asRequest(data: unknown, meta: TriggerMetadata): ApiRequest {
  const d = (typeof data === 'object' && data !== null ? data : {}) as Partial<ApiRequest>
  const path_params = d.path_params ?? d.pathParams ?? {}
  const query_params = d.query_params ?? d.queryParams ?? {}
  return {
    method: typeof d.method === 'string' ? d.method : (meta.method as string),
    path: typeof d.path === 'string' ? d.path : (meta.path as string),
    path_params,
    query_params,
    headers: d.headers ?? {},
    body: d.body === undefined ? null : d.body,
    // the original Motia's names for the same objects
    pathParams: path_params,
    queryParams: query_params,
  }
}

/**
 * Adds the original Motia's field names to a state or stream payload where the engine did not
 * send them (`type`; for streams `streamName`, `groupId`, `id`, `timestamp`); ours stay.
 */
function withOriginalFields(type: 'state' | 'stream', data: unknown): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data
  const d = data as Record<string, unknown>
  const out: Record<string, unknown> = { ...d }
  out.type ??= type
  if (type === 'stream') {
    out.streamName ??= d.stream_name
    out.groupId ??= d.group_id
    out.id ??= d.item_id
    out.timestamp ??= Date.now()
  }
  return out
}

/** The normalized input of a call: `request` for `api`, `data` = body or payload. */
export function normalizeInput(meta: TriggerMetadata, data: unknown): TriggerInput {
  if (meta.type === 'api') {
    const request = asRequest(data, meta)
    return { trigger: meta, request, data: request.body }
  }
  if (meta.type === 'state' || meta.type === 'stream') {
    return { trigger: meta, request: null, data: withOriginalFields(meta.type, data) }
  }
  return { trigger: meta, request: null, data: data === undefined ? null : data }
}

/** What handlers and conditions get as their first argument. */
export function handlerInput(input: TriggerInput): unknown {
  return input.request ?? input.data
}
