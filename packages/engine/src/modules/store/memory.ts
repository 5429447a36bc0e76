/**
 * The `memory` adapter: everything lives in this process and is gone when it exits. Values are
 * kept as JSON text so a caller can never alias a stored value, and so that it refuses and
 * returns exactly what the persistent adapters do.
 */
import { applyOps, type UpdateOp } from './ops.js'
import type {
  AdapterOptions,
  Entry,
  JsonValue,
  KvAdapter,
  TextUpdateResult,
  TextWriteResult,
  WriteResult,
} from './types.js'
import { encodeValue } from './value.js'

type Group = Map<string, string>

export class MemoryAdapter implements KvAdapter {
  readonly name = 'memory'
  private readonly scopes = new Map<string, Map<string, Group>>()
  private readonly maxValueBytes: number

  constructor(options: AdapterOptions) {
    this.maxValueBytes = options.maxValueBytes
  }

  private group(scope: string, group: string, create: true): Group
  private group(scope: string, group: string, create: false): Group | undefined
  private group(scope: string, group: string, create: boolean): Group | undefined {
    let groups = this.scopes.get(scope)
    if (!groups) {
      if (!create) return undefined
      groups = new Map()
      this.scopes.set(scope, groups)
    }
    let g = groups.get(group)
    if (!g && create) {
      g = new Map()
      groups.set(group, g)
    }
    return g
  }

  private drop(scope: string, group: string): void {
    const groups = this.scopes.get(scope)
    if (groups?.get(group)?.size === 0) groups.delete(group)
    if (groups?.size === 0) this.scopes.delete(scope)
  }

  async get(scope: string, group: string, item: string): Promise<JsonValue | null> {
    const text = this.group(scope, group, false)?.get(item)
    return text === undefined ? null : JSON.parse(text)
  }

  async getText(scope: string, group: string, item: string): Promise<string | null> {
    return this.group(scope, group, false)?.get(item) ?? null
  }

  async set(scope: string, group: string, item: string, value: JsonValue): Promise<WriteResult> {
    const { old_text: old, new_text: text } = this.put(scope, group, item, value)
    return { old_value: old === null ? null : JSON.parse(old), new_value: JSON.parse(text) }
  }

  async setText(scope: string, group: string, item: string, value: JsonValue): Promise<TextWriteResult> {
    return this.put(scope, group, item, value)
  }

  private put(scope: string, group: string, item: string, value: JsonValue): TextWriteResult {
    const text = encodeValue(value, this.maxValueBytes)
    const g = this.group(scope, group, true)
    const old = g.get(item)
    g.set(item, text)
    return { old_text: old ?? null, new_text: text }
  }

  async delete(scope: string, group: string, item: string): Promise<JsonValue | null> {
    const g = this.group(scope, group, false)
    const old = g?.get(item)
    if (old === undefined) return null
    g?.delete(item)
    this.drop(scope, group)
    return JSON.parse(old)
  }

  async getGroup(scope: string, group: string): Promise<JsonValue[]> {
    const g = this.group(scope, group, false)
    if (!g) return []
    return [...g.keys()].sort(compare).map((k) => JSON.parse(g.get(k) as string))
  }

  async getGroupEntries(scope: string, group: string): Promise<Entry[]> {
    const g = this.group(scope, group, false)
    if (!g) return []
    return [...g.keys()].sort(compare).map((k) => ({ item_id: k, value: JSON.parse(g.get(k) as string) }))
  }

  async listScopes(): Promise<string[]> {
    return [...this.scopes.keys()].sort(compare)
  }

  async listGroups(scope: string): Promise<string[]> {
    return [...(this.scopes.get(scope)?.keys() ?? [])].sort(compare)
  }

  async clear(scope: string, group: string): Promise<Entry[]> {
    const g = this.group(scope, group, false)
    if (!g) return []
    const entries = [...g.keys()].sort(compare).map((k) => ({ item_id: k, value: JSON.parse(g.get(k) as string) }))
    this.scopes.get(scope)?.delete(group)
    this.drop(scope, group)
    return entries
  }

  async update(
    scope: string,
    group: string,
    item: string,
    ops: UpdateOp[],
    finish?: (value: JsonValue | null) => JsonValue | null,
  ): Promise<WriteResult> {
    const r = this.apply(scope, group, item, ops, finish)
    return { old_value: r.old_value, new_value: r.new_value }
  }

  async updateText(
    scope: string,
    group: string,
    item: string,
    ops: UpdateOp[],
    finish?: (value: JsonValue | null) => JsonValue | null,
  ): Promise<TextUpdateResult> {
    return this.apply(scope, group, item, ops, finish)
  }

  private apply(
    scope: string,
    group: string,
    item: string,
    ops: UpdateOp[],
    finish: ((value: JsonValue | null) => JsonValue | null) | undefined,
  ): TextUpdateResult {
    // Runs start to end without yielding, so no other call can interleave.
    const g = this.group(scope, group, false)
    const oldText = g?.get(item)
    const old = oldText === undefined ? null : (JSON.parse(oldText) as JsonValue)
    let next = applyOps(old, ops)
    if (finish) next = finish(next)
    if (next === null) {
      if (g && oldText !== undefined) {
        g.delete(item)
        this.drop(scope, group)
      }
      return { old_value: old, new_value: null, old_text: oldText ?? null, new_text: null }
    }
    const text = encodeValue(next, this.maxValueBytes)
    this.group(scope, group, true).set(item, text)
    return { old_value: old, new_value: next, old_text: oldText ?? null, new_text: text }
  }

  async close(): Promise<void> {
    this.scopes.clear()
  }
}

/**
 * Unicode code-point order (the byte order of UTF-8, which SQLite's ORDER BY uses), the order
 * every adapter returns ids in. Plain `<` would put U+E000..U+FFFF after astral characters.
 */
export function compare(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    const xs = x >= 0xd800 && x <= 0xdfff
    const ys = y >= 0xd800 && y <= 0xdfff
    if (xs !== ys && (x >= 0xe000 || y >= 0xe000)) return xs ? 1 : -1
    return x - y
  }
  return a.length - b.length
}
