/**
 * Schemas: a step's `bodySchema`, `querySchema`, `responseSchema` entries, event `input` and a
 * stream's `schema` are either Zod schemas (anything with `safeParse`) or JSON Schemas (plain
 * objects, such as what {@link jsonSchema} returns). Both validate (JSON Schemas with Ajv) and
 * both convert to JSON Schema for OpenAPI and `motia generate-types`.
 */
import { createRequire } from 'node:module'
import type { ValidateFunction } from 'ajv'
import * as z from 'zod'
import type { JsonSchema, Schema, TypedJsonSchema } from './types.js'

const require = createRequire(import.meta.url)

/** One validation failure: where (`path`), what (`message`) and which rule (`code`). */
export interface Issue {
  path: (string | number)[]
  message: string
  code?: string
}

export type Checked = { ok: true; value: unknown } | { ok: false; issues: Issue[] }

/** A compiled schema: validates a value and gives back the parsed (defaults filled) value. */
export type Check = (value: unknown) => Checked

/** True for a Zod schema (or any object with Zod's `safeParse`). */
export function isZod(s: unknown): s is Schema {
  return typeof s === 'object' && s !== null && typeof (s as { safeParse?: unknown }).safeParse === 'function'
}

/** True for a JSON Schema: a plain object (or a boolean schema) that is not a Zod schema. */
export function isJsonSchema(s: unknown): s is JsonSchema {
  if (typeof s === 'boolean') return true
  if (typeof s !== 'object' || s === null || Array.isArray(s) || isZod(s)) return false
  const proto = Object.getPrototypeOf(s)
  return proto === Object.prototype || proto === null
}

/** True for a schema Motia can use: Zod or JSON Schema. */
export function isSchema(s: unknown): boolean {
  return isZod(s) || isJsonSchema(s)
}

/**
 * The JSON Schema (draft-07, as the original Motia gave it) of a Zod 4 schema, typed with what
 * the schema parses to, so `Handlers<typeof config>` still knows the body's type.
 */
export function jsonSchema<T extends z.ZodType>(schema: T): TypedJsonSchema<z.output<T>> {
  return z.toJSONSchema(schema, { target: 'draft-7' }) as TypedJsonSchema<z.output<T>>
}

interface AjvLike {
  compile(schema: unknown): ValidateFunction
}

const ajvs = new Map<string, AjvLike>()

/** One Ajv per dialect and coercion mode; `$schema` picks draft-07 (default), 2019-09 or 2020-12. */
function ajvFor(schema: unknown, coerce: boolean): AjvLike {
  const declared = typeof schema === 'object' && schema !== null ? (schema as { $schema?: unknown }).$schema : ''
  const dialect = typeof declared === 'string' && declared.includes('2020-12') ? '2020' : ''
  const d = dialect || (typeof declared === 'string' && declared.includes('2019-09') ? '2019' : '')
  const key = `${d}:${coerce}`
  let ajv = ajvs.get(key)
  if (ajv === undefined) {
    const mod = d === '2020' ? require('ajv/dist/2020') : d === '2019' ? require('ajv/dist/2019') : require('ajv')
    const Ajv = mod.default ?? mod
    const instance = new Ajv({ allErrors: true, strict: false, useDefaults: true, coerceTypes: coerce })
    const formats = require('ajv-formats')
    ;(formats.default ?? formats)(instance)
    ajv = instance as AjvLike
    ajvs.set(key, ajv)
  }
  return ajv
}

function ajvPath(instancePath: string, missing?: unknown): (string | number)[] {
  const parts = instancePath === '' ? [] : instancePath.slice(1).split('/')
  const path: (string | number)[] = parts.map((p) => {
    const s = p.replace(/~1/g, '/').replace(/~0/g, '~')
    return /^\d+$/.test(s) ? Number(s) : s
  })
  if (typeof missing === 'string') path.push(missing)
  return path
}

/**
 * Compiles a schema once. `coerce` (for query strings) lets a JSON Schema turn `"5"` into 5;
 * Zod schemas coerce only where they say so (`z.coerce.number()`).
 * @throws Error when a JSON Schema does not compile (the message says why)
 */
export function compileSchema(schema: unknown, coerce = false): Check {
  if (isZod(schema)) {
    return (value) => {
      const r = schema.safeParse(value)
      if (r.success) return { ok: true, value: r.data }
      return { ok: false, issues: (r.error.issues as Issue[]).map((i) => jsonIssue(i)) }
    }
  }
  const validate = ajvFor(schema, coerce).compile(schema)
  return (value) => {
    // Ajv fills defaults and coerces in place: work on a copy so the caller's value stays as sent
    const copy = value === undefined ? undefined : structuredClone(value)
    const holder = { v: copy }
    if (validate(holder.v)) return { ok: true, value: holder.v }
    const issues = (validate.errors ?? []).map((e) => ({
      path: ajvPath(e.instancePath, (e.params as { missingProperty?: unknown }).missingProperty),
      message: e.message ?? 'does not match the schema',
      code: e.keyword,
    }))
    return { ok: false, issues }
  }
}

/** A Zod issue as plain JSON (Zod issues may hold non-JSON values such as bigint). */
function jsonIssue(i: Issue): Issue {
  const out: Issue = { path: i.path, message: i.message }
  if (typeof i.code === 'string') out.code = i.code
  return out
}

/**
 * The JSON Schema of a schema, for documents (OpenAPI 3.1 uses JSON Schema 2020-12): Zod 4
 * schemas are converted (`io: 'input'` describes what a client sends, `'output'` what a handler
 * returns); JSON Schemas are given back without `$schema`. `undefined` when it cannot be
 * converted (a Zod 3 schema, or a Zod type JSON Schema cannot express).
 */
export function toJsonSchema(schema: unknown, io: 'input' | 'output' = 'input'): Record<string, unknown> | undefined {
  if (isZod(schema)) {
    try {
      const out = z.toJSONSchema(schema as unknown as z.ZodType, { io, unrepresentable: 'any' }) as Record<
        string,
        unknown
      >
      delete out.$schema
      return out
    } catch {
      return undefined
    }
  }
  if (typeof schema === 'boolean') return schema ? {} : { not: {} }
  if (isJsonSchema(schema)) {
    const { $schema: _drop, ...rest } = schema as Record<string, unknown>
    return rest
  }
  return undefined
}
