/**
 * The route table of the `api` trigger type: validates trigger configs and keeps a
 * find-my-way radix tree used as a pure lookup (the route entry is the route's `store`).
 *
 * Several triggers may bind the same method and path to the same function (every worker that
 * serves a function registers its routes); the route lives while at least one of them does.
 */
import Router from 'find-my-way'
import { ErrorCode, IIIError } from '../../errors.js'
import type { TriggerMeta } from '../../protocol.js'
import type { TriggerRecord } from '../module.js'

/** The HTTP methods an `api` trigger may bind. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const
export type HttpMethod = (typeof HTTP_METHODS)[number]

/** Longest accepted request target (path and query); longer ones get 414. */
export const MAX_URL_LENGTH = 8192
/** Longest accepted `api_path` in a trigger config. */
const MAX_PATTERN_LENGTH = 2048

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
// RFC 3986 pchar without percent-encoding, minus find-my-way's special characters
// (`:` starts a parameter, `*` is a wildcard, `(` `)` hold a regex); any Unicode letter or digit.
const STATIC_SEGMENT = /^[\p{L}\p{N}\-._~!$&'+,;=@]+$/u

/** One bound route: what a request that matches it calls. */
export interface RouteEntry {
  readonly method: HttpMethod
  /** The normalized pattern, e.g. `/users/:id`; the ApiRequest's `path`. */
  readonly path: string
  /** `path` as a JSON string, serialized once. */
  readonly pathJson: string
  readonly functionPath: string
  /** True when the pattern has `:param` segments (their values are checked per request). */
  readonly hasParams: boolean
  /** The ids of the triggers that bind this route, in registration order. */
  readonly triggerIds: string[]
  /** The `trigger` metadata sent with each call, built once per route. */
  meta: TriggerMeta
}

/** A validated `api` trigger config. */
export interface ApiRouteConfig {
  method: HttpMethod
  path: string
  hasParams: boolean
}

/** A successful lookup. `params` and `query` are null-prototype objects. */
export interface RouteMatch {
  entry: RouteEntry
  params: Record<string, string>
  query: Record<string, string | string[]>
}

function invalid(id: string, message: string): IIIError {
  return new IIIError(ErrorCode.InvalidTrigger, `api trigger ${id}: ${message}`)
}

/**
 * Validates and normalizes an `api` trigger's config: `http_method` is case-insensitive;
 * `api_path` gets a leading `/` if it lacks one and loses a trailing `/` (the router ignores
 * trailing slashes); segments are static text or `:name`.
 */
export function parseRouteConfig(trigger: TriggerRecord): ApiRouteConfig {
  const { id, config } = trigger
  if (typeof config !== 'object' || config === null) throw invalid(id, 'config must be an object')
  const rawMethod = config.http_method
  if (typeof rawMethod !== 'string') {
    throw invalid(id, `config.http_method must be one of ${HTTP_METHODS.join(', ')}`)
  }
  const method = rawMethod.toUpperCase() as HttpMethod
  if (!HTTP_METHODS.includes(method)) {
    throw invalid(id, `config.http_method "${rawMethod}" is not one of ${HTTP_METHODS.join(', ')}`)
  }
  const rawPath = config.api_path
  if (typeof rawPath !== 'string' || rawPath.length === 0) {
    throw invalid(id, 'config.api_path must be a non-empty string such as "/users/:id"')
  }
  if (rawPath.length > MAX_PATTERN_LENGTH) {
    throw invalid(id, `config.api_path is longer than ${MAX_PATTERN_LENGTH} characters`)
  }
  let path = rawPath.charCodeAt(0) === 47 ? rawPath : `/${rawPath}`
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1)
  const names = new Set<string>()
  if (path !== '/') {
    const segments = path.slice(1).split('/')
    for (const segment of segments) {
      if (segment === '') throw invalid(id, `config.api_path "${rawPath}" has an empty segment ("//")`)
      if (segment.charCodeAt(0) === 58) {
        const name = segment.slice(1)
        if (!PARAM_NAME.test(name)) {
          throw invalid(
            id,
            `config.api_path "${rawPath}": parameter "${segment}" must be ":" then letters, digits or "_"`,
          )
        }
        if (names.has(name)) throw invalid(id, `config.api_path "${rawPath}" names parameter "${name}" twice`)
        names.add(name)
      } else if (segment === '.' || segment === '..' || !STATIC_SEGMENT.test(segment)) {
        throw invalid(
          id,
          `config.api_path "${rawPath}": segment "${segment}" may only hold letters, digits and -._~!$&'+,;=@ (no "%", "*", "(", ")", or dot segments)`,
        )
      }
    }
  }
  return { method, path, hasParams: names.size > 0 }
}

/** The shape find-my-way stores: the pattern with parameter names erased, for conflict checks. */
function shapeOf(path: string): string {
  return path.replace(/\/:[^/]+/g, '/:')
}

/** What the router stores for a pattern: the live entry, or null once its last trigger left. */
interface Slot {
  entry: RouteEntry | null
}

function makeRouter() {
  return Router({
    ignoreTrailingSlash: true,
    ignoreDuplicateSlashes: false,
    caseSensitive: true,
    // Parameters are bounded by MAX_URL_LENGTH instead (414), not silently by the router.
    maxParamLength: MAX_URL_LENGTH,
  })
}

/**
 * The routes. Removing a route from find-my-way rebuilds its whole tree, which made a mass
 * disconnect quadratic; so a removed route only empties its slot, a re-added pattern refills
 * it, and the tree is rebuilt from the live routes once empty slots outnumber them.
 */
export class RouteTable {
  private router = makeRouter()
  /** `METHOD path` -> the slot the router holds for it. */
  private readonly slots = new Map<string, Slot>()
  private emptySlots = 0
  private compactScheduled = false
  /** `METHOD shape` -> entry. */
  private readonly byShape = new Map<string, RouteEntry>()
  /** trigger id -> entry. */
  private readonly byTrigger = new Map<string, RouteEntry>()

  get size(): number {
    return this.byShape.size
  }

  /** Binds a trigger's route; throws `invalid_trigger` or `trigger_conflict`. */
  add(trigger: TriggerRecord): RouteEntry {
    const route = parseRouteConfig(trigger)
    const key = `${route.method} ${shapeOf(route.path)}`
    const previous = this.byTrigger.get(trigger.id)
    const existing = this.byShape.get(key)
    const same =
      existing !== undefined && existing.functionPath === trigger.function_path && existing.path === route.path
    if (previous !== undefined && previous === existing && same) return existing
    // A route may be rebound to another function only by its one and only trigger.
    if (existing !== undefined && !same && !(existing === previous && existing.triggerIds.length === 1)) {
      throw new IIIError(
        ErrorCode.TriggerConflict,
        existing.path === route.path
          ? `api trigger ${trigger.id}: ${route.method} ${route.path} is already bound to function ${existing.functionPath}`
          : `api trigger ${trigger.id}: ${route.method} ${route.path} overlaps ${existing.method} ${existing.path}, bound to function ${existing.functionPath}`,
      )
    }
    if (previous !== undefined) this.remove(trigger.id)
    const shared = this.byShape.get(key)
    if (shared !== undefined) {
      shared.triggerIds.push(trigger.id)
      this.byTrigger.set(trigger.id, shared)
      return shared
    }
    const entry: RouteEntry = {
      method: route.method,
      path: route.path,
      pathJson: JSON.stringify(route.path),
      functionPath: trigger.function_path,
      hasParams: route.hasParams,
      triggerIds: [trigger.id],
      meta: makeMeta(trigger.id, route.path, route.method),
    }
    this.place(entry, trigger.id)
    this.byShape.set(key, entry)
    this.byTrigger.set(trigger.id, entry)
    return entry
  }

  /** Drops a trigger; the route goes with its last trigger. Unknown ids are ignored. */
  remove(triggerId: string): void {
    const entry = this.byTrigger.get(triggerId)
    if (entry === undefined) return
    this.byTrigger.delete(triggerId)
    const i = entry.triggerIds.indexOf(triggerId)
    if (i !== -1) entry.triggerIds.splice(i, 1)
    if (entry.triggerIds.length > 0) {
      if (i === 0) entry.meta = makeMeta(entry.triggerIds[0], entry.path, entry.method)
      return
    }
    this.byShape.delete(`${entry.method} ${shapeOf(entry.path)}`)
    const slot = this.slots.get(`${entry.method} ${entry.path}`)
    if (slot !== undefined && slot.entry === entry) {
      slot.entry = null
      this.emptySlots++
      this.scheduleCompaction()
    }
  }

  /** Puts an entry in the router: into its pattern's empty slot, or as a new route. */
  private place(entry: RouteEntry, triggerId: string): void {
    const slotKey = `${entry.method} ${entry.path}`
    const slot = this.slots.get(slotKey)
    if (slot !== undefined) {
      slot.entry = entry
      this.emptySlots--
      return
    }
    const fresh: Slot = { entry }
    try {
      this.router.on(entry.method, entry.path, noop, fresh)
    } catch (err) {
      // An empty slot of the same shape under other parameter names may be in the way.
      if (this.emptySlots === 0) throw routeError(triggerId, entry, err)
      this.compact()
      try {
        this.router.on(entry.method, entry.path, noop, fresh)
      } catch (again) {
        throw routeError(triggerId, entry, again)
      }
    }
    this.slots.set(slotKey, fresh)
  }

  private scheduleCompaction(): void {
    if (this.compactScheduled || this.emptySlots < 64 || this.emptySlots < this.slots.size - this.emptySlots) return
    this.compactScheduled = true
    setImmediate(() => {
      this.compactScheduled = false
      if (this.emptySlots >= 64 && this.emptySlots >= this.slots.size - this.emptySlots) this.compact()
    })
  }

  /** Rebuilds the router from the live routes. */
  private compact(): void {
    const router = makeRouter()
    const live = [...this.slots].filter(([, slot]) => slot.entry !== null)
    for (const [, slot] of live) {
      const e = slot.entry as RouteEntry
      router.on(e.method, e.path, noop, slot)
    }
    this.router = router
    this.slots.clear()
    for (const [key, slot] of live) this.slots.set(key, slot)
    this.emptySlots = 0
  }

  /**
   * Finds the route for a request target (path and query string, as in `req.url`). Returns
   * null when nothing matches, including a parameter that would hold `/`, `.`, `..` or nothing
   * (a percent-encoded slash or dot segment never reaches a handler).
   */
  find(method: string, url: string): RouteMatch | null {
    const found = this.router.find(method as Router.HTTPMethod, url)
    if (found === null) return null
    const entry = (found.store as Slot).entry
    if (entry === null) return null
    const params = found.params as Record<string, string>
    if (entry.hasParams) {
      for (const name in params) {
        const v = params[name]
        if (v === '' || v === '.' || v === '..' || v.includes('/')) return null
      }
    }
    return { entry, params, query: found.searchParams as Record<string, string | string[]> }
  }

  /** The methods that have a route for this target, for `allow` headers (slow path only). */
  methodsFor(url: string): HttpMethod[] {
    const out: HttpMethod[] = []
    for (const m of HTTP_METHODS) if (this.find(m, url) !== null) out.push(m)
    if (!out.includes('HEAD') && out.includes('GET')) out.push('HEAD')
    return out
  }
}

function makeMeta(id: string, path: string, method: HttpMethod): TriggerMeta {
  return Object.freeze({ type: 'api', id, path, method }) as TriggerMeta
}

function noop(): void {}

function routeError(triggerId: string, entry: RouteEntry, err: unknown): IIIError {
  return new IIIError(
    ErrorCode.TriggerConflict,
    `api trigger ${triggerId}: ${entry.method} ${entry.path} cannot be routed: ${(err as Error).message}`,
  )
}
