/**
 * `motia generate-types`: a `types.d.ts` that fills the `Topics`, `Streams` and `StepInputs`
 * interfaces (declaration merging), from the same schemas that validate at run time, turned
 * into JSON Schema and then into TypeScript. After it, `ctx.emit(topic, data)` accepts only
 * topics some step subscribes to, with data of their `input` schema (what every subscriber
 * declares: the intersection); `ctx.streams.<name>` is typed by the stream's schema; and
 * `Handlers<'StepName'>` types a handler's input by its triggers.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { OfflineProject } from './offline.js'
import { toJsonSchema } from './schema.js'
import type { Trigger } from './types.js'

type S = Record<string, unknown> | boolean | undefined

const MAX_DEPTH = 24

/** The TypeScript type of a JSON Schema (draft-07 or 2020-12); `unknown` where it cannot say. */
export function schemaToTs(schema: S, root: S = schema, depth = 0): string {
  if (schema === undefined || schema === true) return 'unknown'
  if (schema === false) return 'never'
  if (depth > MAX_DEPTH) return 'unknown'
  const s = schema
  const next = (x: unknown) => schemaToTs(x as S, root, depth + 1)
  if (typeof s.$ref === 'string') {
    const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(s.$ref)
    const defs = m && typeof root === 'object' ? (root[m[1]] as Record<string, unknown> | undefined) : undefined
    return m && defs?.[m[2]] !== undefined ? next(defs[m[2]]) : 'unknown'
  }
  let t: string
  if ('const' in s) t = JSON.stringify(s.const)
  else if (Array.isArray(s.enum)) t = s.enum.map((v) => JSON.stringify(v)).join(' | ') || 'never'
  else if (Array.isArray(s.anyOf)) t = s.anyOf.map(next).join(' | ')
  else if (Array.isArray(s.oneOf)) t = s.oneOf.map(next).join(' | ')
  else if (Array.isArray(s.allOf)) t = s.allOf.map((x) => `(${next(x)})`).join(' & ')
  else if (Array.isArray(s.type)) t = s.type.map((ty) => next({ ...s, type: ty })).join(' | ')
  else t = typeOf(s, next)
  if (s.nullable === true) t = `${t} | null`
  return t.includes(' ') && !t.startsWith('{') ? `(${t})` : t
}

function typeOf(s: Record<string, unknown>, next: (x: unknown) => string): string {
  switch (s.type) {
    case 'string':
      return 'string'
    case 'number':
    case 'integer':
      return 'number'
    case 'boolean':
      return 'boolean'
    case 'null':
      return 'null'
    case 'array':
      if (Array.isArray(s.prefixItems)) return `[${s.prefixItems.map(next).join(', ')}]`
      if (Array.isArray(s.items)) return `[${s.items.map(next).join(', ')}]`
      return `${next(s.items ?? true)}[]`
    case 'object':
      return objectOf(s, next)
    default:
      return s.properties !== undefined ? objectOf(s, next) : 'unknown'
  }
}

function objectOf(s: Record<string, unknown>, next: (x: unknown) => string): string {
  const props = (s.properties ?? {}) as Record<string, unknown>
  const required = new Set(Array.isArray(s.required) ? s.required : [])
  const fields = Object.entries(props).map(([k, v]) => `${JSON.stringify(k)}${required.has(k) ? '' : '?'}: ${next(v)}`)
  const extra = s.additionalProperties
  if (fields.length === 0) {
    if (extra === false) return 'Record<string, never>'
    return `Record<string, ${extra === undefined || extra === true ? 'unknown' : next(extra)}>`
  }
  if (extra !== undefined && extra !== false) fields.push(`[key: string]: unknown`)
  return `{ ${fields.join('; ')} }`
}

/** The TypeScript type of a schema field (Zod or JSON Schema), `unknown` when there is none. */
function typeOfSchema(schema: unknown): string {
  if (schema === undefined) return 'unknown'
  const json = toJsonSchema(schema, 'input')
  return json === undefined ? 'unknown' : schemaToTs(json)
}

function inputOf(t: Trigger): string {
  switch (t.type) {
    case 'api':
      return `ApiRequest<${t.bodySchema === undefined ? 'any' : typeOfSchema(t.bodySchema)}>`
    case 'event':
      return t.input === undefined ? 'any' : typeOfSchema(t.input)
    case 'cron':
      return 'CronInput'
    case 'state':
      return 'StateTriggerInput<any>'
    case 'stream':
      return 'StreamTriggerInput<any>'
  }
}

/** Which module name the project imports Motia as: `motia`, or `@iii-dev/motia` when only that is a dependency. */
export function motiaModuleName(root: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, Record<string, string>>
    const deps = { ...pkg.dependencies, ...pkg.devDependencies }
    if (deps['@iii-dev/motia'] !== undefined && deps.motia === undefined) return '@iii-dev/motia'
  } catch {
    // no package.json: `motia`
  }
  return 'motia'
}

/** The text of `types.d.ts` for a loaded project. */
export function generateTypes(project: OfflineProject, moduleName = 'motia'): string {
  const topics = new Map<string, string[]>()
  for (const { config } of project.steps) {
    for (const t of config.triggers) {
      if (t.type !== 'event') continue
      const list = topics.get(t.topic) ?? []
      if (t.input !== undefined) list.push(typeOfSchema(t.input))
      topics.set(t.topic, list)
    }
  }
  const key = (k: string) => JSON.stringify(k)
  const topicLines = [...topics.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([topic, types]) => `    ${key(topic)}: ${types.length === 0 ? 'unknown' : types.join(' & ')}`)
  const streamLines = project.streams
    .map((s) => `    ${key(s.name)}: MotiaStream<${s.schema === undefined ? 'any' : typeOfSchema(s.schema)}>`)
    .sort()
  const stepLines = project.steps
    .map(({ config }) => `    ${key(config.name)}: ${[...new Set(config.triggers.map(inputOf))].join(' | ')}`)
    .sort()
  const block = (name: string, lines: string[]) =>
    `  interface ${name} {\n${lines.join('\n')}${lines.length ? '\n' : ''}  }`
  return [
    '// Generated by `motia generate-types` from the step and stream schemas: do not edit, run it again.',
    `import type { ApiRequest, CronInput, MotiaStream, StateTriggerInput, StreamTriggerInput } from '${moduleName}'`,
    '',
    `declare module '${moduleName}' {`,
    block('Topics', topicLines),
    block('Streams', streamLines),
    block('StepInputs', stepLines),
    '}',
    '',
  ].join('\n')
}
