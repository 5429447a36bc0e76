/**
 * OpenAPI 3.1 from the registration convention (see registration.ts): every `api` trigger is
 * an operation; the function's `request_format` is its JSON request body, `response_format`
 * its responses, and `metadata.motia.query_schema` its query parameters. The same builder
 * serves `GET /__motia/openapi.json` (from what the engine lists, so Python steps and any
 * worker appear) and `motia openapi` (from the loaded Node steps, offline).
 */
import type { JsonObject } from '@iii-dev/sdk'
import type { FunctionRegistration, TriggerRegistration } from './registration.js'

/** The route `motia dev` serves the document on. */
export const OPENAPI_PATH = '/__motia/openapi.json'

/** A function as `engine.functions.list` gives it. */
export type ListedFunction = Partial<FunctionRegistration> & { function_path: string; metadata?: JsonObject }

/** The body Motia answers a failed schema check with (docs/motia.md, "Schemas"). */
const VALIDATION_ERROR = {
  type: 'object',
  required: ['error', 'in', 'issues'],
  properties: {
    error: { const: 'validation_failed' },
    in: { enum: ['body', 'query_params'] },
    issues: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: {
          path: { type: 'array', items: { type: ['string', 'integer'] } },
          message: { type: 'string' },
          code: { type: 'string' },
        },
      },
    },
  },
}

/** `/todos/:id` -> `/todos/{id}`, and the parameter names. */
function openApiPath(path: string): { path: string; params: string[] } {
  const params: string[] = []
  const p = path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
    params.push(name)
    return `{${name}}`
  })
  return { path: p, params }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function queryParameters(motia: Record<string, unknown>): JsonObject[] {
  const schema = motia.query_schema
  if (isObject(schema) && isObject(schema.properties)) {
    const required = new Set(Array.isArray(schema.required) ? schema.required : [])
    return Object.entries(schema.properties).map(([name, s]) => {
      const param: JsonObject = { name, in: 'query', required: required.has(name), schema: s as JsonObject }
      if (isObject(s) && typeof s.description === 'string') param.description = s.description
      return param
    })
  }
  if (Array.isArray(motia.query_params)) {
    return motia.query_params.filter(isObject).map((q) => ({
      name: String(q.name),
      in: 'query',
      required: false,
      ...(typeof q.description === 'string' && q.description !== '' && { description: q.description }),
      schema: { type: 'string' },
    }))
  }
  return []
}

function operationId(functionPath: string, used: Set<string>): string {
  const base = functionPath.replace(/^steps\./, '').replace(/[^A-Za-z0-9_]+/g, '_')
  let id = base
  for (let n = 2; used.has(id); n++) id = `${base}_${n}`
  used.add(id)
  return id
}

export interface OpenApiInfo {
  title: string
  version: string
  description?: string
}

/**
 * The OpenAPI 3.1 document of every `api` trigger in `triggers` (the document route itself
 * left out). Functions without formats still get an operation, with an open body.
 */
export function buildOpenApi(
  functions: readonly ListedFunction[],
  triggers: readonly Pick<TriggerRegistration, 'trigger_type' | 'function_path' | 'config'>[],
  info: OpenApiInfo,
): JsonObject {
  const byPath = new Map(functions.map((f) => [f.function_path, f]))
  const paths: Record<string, Record<string, JsonObject>> = {}
  const used = new Set<string>()
  const api = triggers
    .filter((t) => t.trigger_type === 'api' && typeof t.config?.api_path === 'string')
    .sort((a, b) => String(a.config.api_path).localeCompare(String(b.config.api_path)))
  for (const t of api) {
    const rawPath = String(t.config.api_path)
    if (rawPath === OPENAPI_PATH) continue
    const method = String(t.config.http_method ?? 'GET').toLowerCase()
    const fn = byPath.get(t.function_path)
    const motia = (isObject(fn?.metadata?.motia) ? fn?.metadata?.motia : {}) as Record<string, unknown>
    const { path, params } = openApiPath(rawPath.startsWith('/') ? rawPath : `/${rawPath}`)
    const op: JsonObject = { operationId: operationId(t.function_path, used) }
    const description = t.config.description ?? motia.description ?? fn?.description
    if (typeof description === 'string') op.summary = description
    if (typeof motia.step === 'string') op.tags = [motia.step]
    const parameters: JsonObject[] = params.map((name) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }))
    parameters.push(...queryParameters(motia))
    if (parameters.length > 0) op.parameters = parameters
    const hasBody = fn?.request_format !== undefined && fn.request_format !== null
    if (hasBody) {
      op.requestBody = { required: true, content: { 'application/json': { schema: fn.request_format as JsonObject } } }
    }
    const responses: Record<string, JsonObject> = {}
    if (isObject(fn?.response_format)) {
      for (const [status, schema] of Object.entries(fn.response_format)) {
        responses[status] = { description: `${status} response`, content: { 'application/json': { schema } } }
      }
    }
    if (hasBody || motia.query_schema !== undefined) {
      // Motia answers a failed schema check itself: a declared 400 is one of two bodies then
      const declared = responses['400']?.content as Record<string, { schema?: unknown }> | undefined
      const schema = declared?.['application/json']?.schema
      responses['400'] = {
        description:
          schema === undefined
            ? 'the body or query does not match its schema'
            : 'the declared 400, or a failed schema check',
        content: {
          'application/json': {
            schema: schema === undefined ? VALIDATION_ERROR : { anyOf: [schema, VALIDATION_ERROR] },
          },
        },
      }
    }
    if (Object.keys(responses).length === 0) responses.default = { description: 'the handler answer' }
    op.responses = responses
    paths[path] ??= {}
    paths[path][method] = op
  }
  const doc: JsonObject = {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, ...(info.description && { description: info.description }) },
    paths,
  }
  return doc
}
