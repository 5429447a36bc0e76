/**
 * The `redis` adapter: items in a shared Redis, so several engines see one store.
 *
 * Keys (`P` is the prefix, `iii:` by default; `N` the module, `state` or `streams`; `S`/`G` the
 * scope and group, each after its length so that no two (scope, group) pairs share a key):
 * - `P N:{len(S):S:G}:items`  hash item id -> JSON text of the value
 * - `P N:{len(S):S:G}:ver`    counter of the group's empty/non-empty transitions
 * - `P N:{len(S):S}:groups`   sorted set of the scope's non-empty groups (scores 0)
 * - `P N:{len(S):S}:gver`     hash group -> last transition applied to `groups`
 *
 * The part in braces is the hash tag: one group's keys live in one cluster slot, and every
 * script touches the keys of one slot only. Each write is one Lua script (`redis-lua.ts`), so it
 * is atomic against every engine; a write that makes a group appear or disappear then updates
 * the scope's index with a second script that applies transitions in order, and `listGroups`
 * checks each listed group still exists, so the index can never show an empty group.
 *
 * Durability is Redis's: with `appendonly yes` a write survives a Redis restart once the reply
 * arrived (`appendfsync always` also survives power loss); see docs/scale-out.md. A Redis that
 * cannot be reached fails the call with `store_unavailable` within the command timeout.
 */
import type { Redis } from 'ioredis'
import { ErrorCode, IIIError } from '../../errors.js'
import {
  COMMAND_TIMEOUT_MS,
  checkPrefix,
  closeClient,
  DEFAULT_PREFIX,
  openClient,
  storeError,
  whenReady,
} from '../../redis/client.js'
import { compare } from './memory.js'
import { applyOps, parsePath, type UpdateOp } from './ops.js'
import { CAS, CLEAR, DELETE, INDEX, SET, UPDATE } from './redis-lua.js'
import type { AdapterOptions, Entry, JsonValue, KvAdapter, WriteResult } from './types.js'
import { encodeValue } from './value.js'

export interface RedisAdapterOptions extends AdapterOptions {
  /** The Redis to use. */
  url: string
  /** Key prefix; `iii:` by default. */
  prefix?: string
  /** The module that owns the data (`state`, `streams`), part of every key. */
  namespace: string
  /** Use this connection instead of opening one (it is not closed by {@link close}). */
  client?: Redis
}

type Reply = Array<string | number | null>

const isIndex = (key: string) => /^(0|[1-9][0-9]{0,8})$/.test(key)

/** Orders strings by code point, as SQLite and the sorted set do (UTF-16 order differs). */
export const byCodePoint = compare

export class RedisAdapter implements KvAdapter {
  readonly name = 'redis'
  private client: Redis | null
  private readonly ownsClient: boolean
  private readonly maxValueBytes: number
  private readonly base: string
  /** Until the first connection is up, calls wait for it (at most the command timeout). */
  private firstConnect: Promise<boolean> | null

  constructor(options: RedisAdapterOptions) {
    this.maxValueBytes = options.maxValueBytes
    this.base = `${checkPrefix(options.prefix ?? DEFAULT_PREFIX)}${options.namespace}:`
    this.ownsClient = options.client === undefined
    this.client = options.client ?? openClient(options.url)
    for (const [name, lua] of Object.entries({ SET, DELETE, CLEAR, CAS, UPDATE })) {
      this.client.defineCommand(`iii_kv_${name.toLowerCase()}`, { numberOfKeys: 2, lua })
    }
    this.client.defineCommand('iii_kv_index', { numberOfKeys: 2, lua: INDEX })
    this.firstConnect = whenReady(this.client, COMMAND_TIMEOUT_MS).finally(() => {
      this.firstConnect = null
    })
  }

  /** The connection, for tests that check readiness. */
  get connection(): Redis | null {
    return this.client
  }

  private groupKeys(scope: string, group: string): [string, string] {
    const tag = `${this.base}{${scope.length}:${scope}:${group}}`
    return [`${tag}:items`, `${tag}:ver`]
  }

  private scopeKeys(scope: string): [string, string] {
    const tag = `${this.base}{${scope.length}:${scope}}`
    return [`${tag}:groups`, `${tag}:gver`]
  }

  private open(): Redis & Record<string, (...args: unknown[]) => Promise<unknown>> {
    if (!this.client) throw new IIIError(ErrorCode.Internal, 'the redis store is closed')
    return this.client as Redis & Record<string, (...args: unknown[]) => Promise<unknown>>
  }

  /** Runs one command; maps connection failures to `store_unavailable`. */
  private async run<T>(what: string, fn: (r: ReturnType<RedisAdapter['open']>) => Promise<T>): Promise<T> {
    if (this.firstConnect) await this.firstConnect
    const r = this.open()
    try {
      return await fn(r)
    } catch (err) {
      throw storeError(err, `store ${what}`)
    }
  }

  /** Records a group appearing (1) or disappearing (-1) in the scope's index. */
  private async indexed(scope: string, group: string, dir: unknown, ver: unknown): Promise<void> {
    if (dir !== 1 && dir !== -1) return
    await this.run('index', (r) => r.iii_kv_index(...this.scopeKeys(scope), group, String(ver), String(dir)))
  }

  async get(scope: string, group: string, item: string): Promise<JsonValue | null> {
    const text = await this.run('get', (r) => r.hget(this.groupKeys(scope, group)[0], item))
    return text === null ? null : JSON.parse(text)
  }

  async set(scope: string, group: string, item: string, value: JsonValue): Promise<WriteResult> {
    const text = encodeValue(value, this.maxValueBytes)
    const [old, dir, ver] = (await this.run('set', (r) =>
      r.iii_kv_set(...this.groupKeys(scope, group), item, text),
    )) as Reply
    await this.indexed(scope, group, dir, ver)
    // As the other adapters do: the value stored is a copy (text); the one passed is returned.
    return { old_value: old === null ? null : JSON.parse(String(old)), new_value: value }
  }

  async delete(scope: string, group: string, item: string): Promise<JsonValue | null> {
    const [old, dir, ver] = (await this.run('delete', (r) =>
      r.iii_kv_delete(...this.groupKeys(scope, group), item),
    )) as Reply
    await this.indexed(scope, group, dir, ver)
    return old === null ? null : JSON.parse(String(old))
  }

  async getGroup(scope: string, group: string): Promise<JsonValue[]> {
    const all = await this.run('getGroup', (r) => r.hgetall(this.groupKeys(scope, group)[0]))
    return Object.keys(all)
      .sort(byCodePoint)
      .map((k) => JSON.parse(all[k]))
  }

  async getGroupEntries(scope: string, group: string): Promise<Entry[]> {
    const all = await this.run('getGroupEntries', (r) => r.hgetall(this.groupKeys(scope, group)[0]))
    return Object.keys(all)
      .sort(byCodePoint)
      .map((k) => ({ item_id: k, value: JSON.parse(all[k]) }))
  }

  async listScopes(): Promise<string[]> {
    // Each scope with groups has a `<base>{<length>:<scope>}:groups` index; a SCAN finds them
    // (a console read, not a hot path).
    const pattern = `${this.base.replace(/[*?[\]\\]/g, '\\$&')}{*}:groups`
    const keys = new Set<string>()
    let cursor = '0'
    do {
      const [next, found] = await this.run('listScopes', (r) => r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000))
      for (const k of found) keys.add(k)
      cursor = next
    } while (cursor !== '0')
    const scopes: string[] = []
    for (const key of keys) {
      const rest = key.slice(this.base.length + 1)
      const colon = rest.indexOf(':')
      const scope = rest.slice(colon + 1, colon + 1 + Number(rest.slice(0, colon)))
      if (this.scopeKeys(scope)[0] === key && (await this.listGroups(scope)).length > 0) scopes.push(scope)
    }
    return scopes.sort(byCodePoint)
  }

  async listGroups(scope: string): Promise<string[]> {
    const groups = await this.run('listGroups', (r) => r.zrange(this.scopeKeys(scope)[0], 0, -1))
    if (groups.length === 0) return []
    // A crash between a write and its index step can leave a group listed that is gone.
    const exists = await this.run('listGroups', (r) => {
      const p = r.pipeline()
      for (const g of groups) p.exists(this.groupKeys(scope, g)[0])
      return p.exec()
    })
    return groups.filter((_, i) => exists?.[i]?.[1] === 1)
  }

  async clear(scope: string, group: string): Promise<Entry[]> {
    const reply = (await this.run('clear', (r) => r.iii_kv_clear(...this.groupKeys(scope, group)))) as Reply
    await this.indexed(scope, group, reply[0], reply[1])
    const entries: Entry[] = []
    for (let i = 2; i < reply.length; i += 2) {
      entries.push({ item_id: String(reply[i]), value: JSON.parse(String(reply[i + 1])) })
    }
    return entries.sort((a, b) => byCodePoint(a.item_id, b.item_id))
  }

  async update(
    scope: string,
    group: string,
    item: string,
    ops: UpdateOp[],
    finish?: (value: JsonValue | null) => JsonValue | null,
  ): Promise<WriteResult> {
    if (finish !== undefined) return this.updateWithFinish(scope, group, item, ops, finish)
    const encoded = JSON.stringify(ops.map(encodeOp))
    const reply = (await this.run('update', (r) =>
      r.iii_kv_update(...this.groupKeys(scope, group), item, String(this.maxValueBytes), encoded),
    )) as Reply
    if (reply[0] === 'bad') throw new IIIError(ErrorCode.InvalidArgument, String(reply[1]))
    if (reply[0] === 'big') throw tooLarge(Number(reply[1]), this.maxValueBytes)
    const [, old, next, dir, ver] = reply
    await this.indexed(scope, group, dir, ver)
    return {
      old_value: old === null ? null : JSON.parse(String(old)),
      new_value: next === null ? null : JSON.parse(String(next)),
    }
  }

  /**
   * An update whose result the caller finishes in this process (a JS function cannot run in
   * Redis): ops and `finish` run here on the current value, and a compare-and-set script stores
   * the result only if the item is still what was read; otherwise it is done again on the value
   * the script returned. Concurrent updates of one item retry but never lose an operation.
   */
  private async updateWithFinish(
    scope: string,
    group: string,
    item: string,
    ops: UpdateOp[],
    finish: (value: JsonValue | null) => JsonValue | null,
  ): Promise<WriteResult> {
    const keys = this.groupKeys(scope, group)
    let current = await this.run('update', (r) => r.hget(keys[0], item))
    for (;;) {
      const old = current === null ? null : (JSON.parse(current) as JsonValue)
      const next = finish(applyOps(old, ops))
      const text = next === null ? null : encodeValue(next, this.maxValueBytes)
      const expected = current === null ? '0' : `1${current}`
      const reply = (await this.run('update', (r) =>
        r.iii_kv_cas(...keys, item, expected, text === null ? '0' : `1${text}`),
      )) as Reply
      if (reply[0] === 'ok') {
        await this.indexed(scope, group, reply[1], reply[2])
        return { old_value: old, new_value: next }
      }
      current = reply[1] === null ? null : String(reply[1])
    }
  }

  async close(): Promise<void> {
    const client = this.client
    this.client = null
    if (client && this.ownsClient) await closeClient(client)
  }
}

/** An op in the form the update script reads (see `UPDATE` in redis-lua.ts). */
function encodeOp(op: UpdateOp, n: number) {
  const where = `update: ops[${n}]`
  const segs = op.type === 'merge' && (op.path === undefined || op.path === null) ? [] : parsePath(op.path, where)
  const out: Record<string, unknown> = {
    type: op.type,
    segs,
    lits: segs.map((s) => JSON.stringify(s)),
    idx: segs.map((s) => (isIndex(s) ? Number(s) : -1)),
  }
  if (op.type === 'set') out.value = JSON.stringify(op.value)
  if (op.type === 'merge') {
    if (typeof op.value !== 'object' || op.value === null || Array.isArray(op.value)) {
      throw new IIIError(ErrorCode.InvalidArgument, `${where}.value must be an object for merge`)
    }
    out.value = JSON.stringify(op.value)
  }
  if (op.type === 'increment' || op.type === 'decrement') out.by = op.by
  if (op.type === 'set' && out.value === undefined) {
    throw new IIIError(ErrorCode.InvalidArgument, `${where}.value is required for set`)
  }
  return out
}

function tooLarge(bytes: number, maxBytes: number): IIIError {
  return new IIIError(ErrorCode.PayloadTooLarge, `the value is ${bytes} bytes as JSON, over the limit of ${maxBytes}`, {
    bytes,
    max_value_bytes: maxBytes,
  })
}
