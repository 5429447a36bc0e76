/**
 * What Motia tells the engine about each step function: the `registerfunction` fields and the
 * trigger. The registration convention (shared with Python Motia, and what
 * `GET /__motia/openapi.json` reads back from `engine.functions.list` + `engine.triggers.list`):
 *
 * - `metadata.motia = {step, app, instance, trigger_types, flows?, emits?, replica?}` on every
 *   step function; an api function adds `query_schema?` (JSON Schema of the query) and
 *   `description?`;
 * - an api function's `request_format` is the JSON Schema of its body (left out when it has
 *   none) and its `response_format` is `{"<status>": <JSON Schema>, ...}` when response schemas
 *   are declared;
 * - the api trigger's config stays `{api_path, http_method, description?}`.
 */
import type { JsonObject } from '@iii-dev/sdk'
import { toJsonSchema } from './schema.js'
import { engineTrigger, topicsOf, triggerPath } from './triggers.js'
import type { StepConfig, Trigger } from './types.js'

/** Who registers: the app's name and this process's instance id (see docs/motia.md, "One app per step name"). */
export interface AppIdentity {
  /** The project's name (its package.json `name`, else its directory's name, or `--app`). */
  app: string
  /** A random id of this Motia process. */
  instance: string
  /** The project directory (shown in conflict messages). */
  root?: string
  /** Set when this process is one replica of `app` (`--replica` / `MOTIA_REPLICA=1`). */
  replica?: boolean
}

/** The `registerfunction` fields (without the handler) of one step trigger's function. */
export interface FunctionRegistration {
  function_path: string
  description?: string
  metadata: JsonObject
  request_format?: unknown
  response_format?: unknown
}

/** The `registertrigger` fields of one step trigger. */
export interface TriggerRegistration {
  trigger_type: string
  function_path: string
  config: JsonObject
}

/** The metadata every function of a step carries. */
function stepMetadata(config: StepConfig, who: AppIdentity | undefined): JsonObject {
  const motia: JsonObject = { step: config.name }
  if (who !== undefined) {
    motia.app = who.app
    motia.instance = who.instance
    if (who.root !== undefined) motia.root = who.root
    if (who.replica) motia.replica = true
    motia.pid = process.pid
  }
  motia.trigger_types = config.triggers.map((t) => t.type)
  if (config.flows) motia.flows = [...config.flows]
  const emits = topicsOf(config.emits)
  if (emits) motia.emits = emits
  return motia
}

/** The function and trigger registration of trigger `index` of a step. */
export function stepRegistration(
  config: StepConfig,
  trigger: Trigger,
  index: number,
  who?: AppIdentity,
): { fn: FunctionRegistration; trigger: TriggerRegistration } {
  const path = triggerPath(config.name, index)
  const motia = stepMetadata(config, who)
  const fn: FunctionRegistration = { function_path: path, metadata: { motia } }
  if (config.description !== undefined) fn.description = config.description
  const { trigger_type, config: tc } = engineTrigger(trigger)
  if (trigger.type === 'api') {
    const description = trigger.description ?? config.description
    if (description !== undefined) {
      motia.description = description
      if (trigger.description !== undefined) tc.description = trigger.description
    }
    const query = trigger.querySchema === undefined ? undefined : toJsonSchema(trigger.querySchema, 'input')
    if (query !== undefined) motia.query_schema = query as JsonObject
    else if (trigger.queryParams?.length) {
      motia.query_params = trigger.queryParams.map((q) => ({ name: q.name, description: q.description ?? '' }))
    }
    const body = trigger.bodySchema === undefined ? undefined : toJsonSchema(trigger.bodySchema, 'input')
    if (body !== undefined) fn.request_format = body
    if (trigger.responseSchema !== undefined) {
      const out: Record<string, unknown> = {}
      for (const [status, schema] of Object.entries(trigger.responseSchema)) {
        out[status] = toJsonSchema(schema, 'output') ?? {}
      }
      if (Object.keys(out).length > 0) fn.response_format = out
    }
  } else if (trigger.type === 'event' && trigger.input !== undefined) {
    const input = toJsonSchema(trigger.input, 'input')
    if (input !== undefined) fn.request_format = input
  }
  return { fn, trigger: { trigger_type, function_path: path, config: tc } }
}
