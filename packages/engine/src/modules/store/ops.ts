/**
 * Update operations for `state.update` and `streams.update`: parsing (with precise errors) and a
 * pure `applyOps`. No I/O here; adapters call `applyOps` inside their own atomic step.
 *
 * Ops:
 * - `{type:"set", path, value}`: put `value` at `path` (the root path replaces the whole value);
 * - `{type:"merge", path?, value}`: shallow-merge the object `value` into the object at `path`;
 * - `{type:"increment"|"decrement", path, by}`: add or subtract the number `by` (missing = 0);
 * - `{type:"remove", path}`: remove the key at `path` (nothing happens when it is missing).
 *
 * A path is a dotted string (`"stats.views"`) or an array of segments (`["a.b", "c"]`, for keys
 * that contain dots); `""` and `[]` mean the root. Missing intermediate objects are created. A
 * segment indexes an array when it is a non-negative integer. `__proto__` is refused anywhere
 * in a path, and merged keys are copied as plain data, so no op can reach a prototype.
 */
import { IIIError } from '../../errors.js'
import type { JsonValue } from './types.js'

export type Path = string | Array<string | number>

export type UpdateOp =
  | { type: 'set'; path: Path; value: JsonValue }
  | { type: 'merge'; path?: Path; value: { [key: string]: JsonValue } }
  | { type: 'increment' | 'decrement'; path: Path; by: number }
  | { type: 'remove'; path: Path }

/** The most ops one update may carry, and the deepest path. */
export const MAX_OPS = 1000
export const MAX_PATH_DEPTH = 64

const OP_TYPES = new Set(['set', 'merge', 'increment', 'decrement', 'remove'])

const bad = (message: string) => new IIIError('invalid_argument', message)

const isPlainObject = (v: unknown): v is { [key: string]: JsonValue } =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** Splits and checks a path; throws `invalid_argument` naming `where`. */
export function parsePath(path: unknown, where: string): string[] {
  let segs: string[]
  if (typeof path === 'string') {
    segs = path === '' ? [] : path.split('.')
    if (segs.some((s) => s === '')) throw bad(`${where}.path "${path}" has an empty segment`)
  } else if (Array.isArray(path)) {
    segs = path.map((s, i) => {
      if (typeof s === 'string') return s
      if (typeof s === 'number' && Number.isInteger(s) && s >= 0) return String(s)
      throw bad(`${where}.path[${i}] must be a string or a non-negative integer`)
    })
  } else {
    throw bad(`${where}.path must be a dotted string or an array of segments`)
  }
  if (segs.length > MAX_PATH_DEPTH) throw bad(`${where}.path is deeper than ${MAX_PATH_DEPTH} segments`)
  if (segs.includes('__proto__')) throw bad(`${where}.path may not contain "__proto__"`)
  return segs
}

/** Checks a raw `ops` value from a caller and returns it typed; throws `invalid_argument`. */
export function parseOps(raw: unknown, fn: string): UpdateOp[] {
  if (!Array.isArray(raw) || raw.length === 0) throw bad(`${fn}: ops must be a non-empty array`)
  if (raw.length > MAX_OPS) throw bad(`${fn}: ops may hold at most ${MAX_OPS} operations`)
  raw.forEach((op, i) => {
    const where = `${fn}: ops[${i}]`
    if (!isPlainObject(op)) throw bad(`${where} must be an object`)
    if (typeof op.type !== 'string' || !OP_TYPES.has(op.type)) {
      throw bad(
        `${where}.type must be one of set, merge, increment, decrement, remove (got ${JSON.stringify(op.type)})`,
      )
    }
    if (op.type === 'merge') {
      if (op.path !== undefined && op.path !== null) parsePath(op.path, where)
      if (!isPlainObject(op.value)) throw bad(`${where}.value must be an object for merge`)
    } else {
      if (op.path === undefined || op.path === null) throw bad(`${where}.path is required for ${op.type}`)
      parsePath(op.path, where)
    }
    if (op.type === 'set' && op.value === undefined) throw bad(`${where}.value is required for set`)
    if (op.type === 'increment' || op.type === 'decrement') {
      if (typeof op.by !== 'number' || !Number.isFinite(op.by)) throw bad(`${where}.by must be a finite number`)
    }
    if (op.type === 'remove' && parsePath(op.path, where).length === 0) {
      throw bad(`${where}: remove needs a non-empty path (delete the item instead)`)
    }
  })
  return raw as UpdateOp[]
}

/** The value at `segs` (own properties only), or undefined. */
function getAt(root: JsonValue | null, segs: string[]): JsonValue | undefined {
  let node: JsonValue | undefined = root ?? undefined
  for (const key of segs) {
    if (Array.isArray(node)) node = isIndex(key) ? node[Number(key)] : undefined
    else if (isPlainObject(node)) node = Object.hasOwn(node, key) ? node[key] : undefined
    else return undefined
  }
  return node
}

const isIndex = (key: string) => /^(0|[1-9][0-9]{0,8})$/.test(key)

/** A copy of `node` with `value` at `segs`; containers along the path are copied, never mutated. */
function setAt(
  node: JsonValue | null | undefined,
  segs: string[],
  i: number,
  value: JsonValue,
  where: string,
): JsonValue {
  if (i === segs.length) return value
  const key = segs[i]
  if (node === null || node === undefined) node = {}
  if (Array.isArray(node)) {
    if (!isIndex(key) || Number(key) > node.length) {
      throw bad(`${where}: "${segs.slice(0, i + 1).join('.')}" is not a valid index of the array there`)
    }
    const copy = node.slice()
    copy[Number(key)] = setAt(copy[Number(key)], segs, i + 1, value, where)
    return copy
  }
  if (!isPlainObject(node)) {
    throw bad(
      `${where}: cannot set "${segs.join('.')}" because "${segs.slice(0, i).join('.') || '(root)'}" is not an object`,
    )
  }
  const copy: { [key: string]: JsonValue } = { ...node }
  copy[key] = setAt(Object.hasOwn(node, key) ? node[key] : undefined, segs, i + 1, value, where)
  return copy
}

/** A copy of `node` without the key at `segs`; `node` itself when the path is missing. */
function removeAt(node: JsonValue | null | undefined, segs: string[], i: number): JsonValue | null | undefined {
  if (node === null || node === undefined) return node
  const key = segs[i]
  const last = i === segs.length - 1
  if (Array.isArray(node)) {
    if (!isIndex(key) || Number(key) >= node.length) return node
    const copy = node.slice()
    if (last) copy.splice(Number(key), 1)
    else copy[Number(key)] = removeAt(copy[Number(key)], segs, i + 1) as JsonValue
    return copy
  }
  if (!isPlainObject(node) || !Object.hasOwn(node, key)) return node
  const copy: { [key: string]: JsonValue } = { ...node }
  if (last) delete copy[key]
  else copy[key] = removeAt(node[key], segs, i + 1) as JsonValue
  return copy
}

/**
 * Applies checked `ops` in order to `current` (null for a missing item) and returns the new
 * value. Pure: `current` is never modified. Throws `invalid_argument` when an op does not fit
 * the value (incrementing a string, setting a key inside a number...).
 */
export function applyOps(current: JsonValue | null, ops: UpdateOp[], fn = 'update'): JsonValue | null {
  let value: JsonValue | null = current
  ops.forEach((op, n) => {
    const where = `${fn}: ops[${n}]`
    switch (op.type) {
      case 'set':
        value = setAt(value, parsePath(op.path, where), 0, op.value, where)
        return
      case 'merge': {
        const segs = op.path === undefined || op.path === null ? [] : parsePath(op.path, where)
        const target = getAt(value, segs)
        if (target !== undefined && target !== null && !isPlainObject(target)) {
          throw bad(`${where}: cannot merge into "${segs.join('.') || '(root)'}" because it is not an object`)
        }
        // Spread defines own properties, so a "__proto__" key in op.value stays plain data.
        value = setAt(value, segs, 0, { ...(target ?? {}), ...op.value }, where)
        return
      }
      case 'increment':
      case 'decrement': {
        const segs = parsePath(op.path, where)
        const cur = getAt(value, segs)
        if (cur !== undefined && cur !== null && typeof cur !== 'number') {
          throw bad(`${where}: cannot ${op.type} "${segs.join('.') || '(root)'}" because it holds a ${typeName(cur)}`)
        }
        const next = (cur ?? 0) + (op.type === 'increment' ? op.by : -op.by)
        if (!Number.isFinite(next)) throw bad(`${where}: the result is not a finite number`)
        value = setAt(value, segs, 0, next, where)
        return
      }
      case 'remove':
        value = removeAt(value, parsePath(op.path, where), 0) ?? null
        return
    }
  })
  return value
}

function typeName(v: JsonValue): string {
  if (Array.isArray(v)) return 'array'
  return typeof v === 'object' ? 'object' : typeof v
}
