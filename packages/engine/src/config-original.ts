/**
 * The original engine's config file shape: `modules` is a list of `{class, config}` entries
 * (`class: modules::api::RestApiModule`, ...). {@link translateOriginalConfig} turns such a
 * file into ours before it is validated: each known class becomes our module's entry with its
 * keys renamed, and what has no equivalent here (a class, a key, an adapter) is named in one
 * warning each, which the engine logs at start-up. Modules the list leaves out keep our
 * defaults (see docs/compatibility.md).
 */

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Numbers the original wrote as strings after `${VAR:3111}` expansion ("3111") become numbers. */
function num(v: unknown): unknown {
  return typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v
}

/** Our module each original class maps to (the class names of the original engine and its docs). */
const CLASSES: Record<string, 'api' | 'streams' | 'state' | 'event' | 'cron' | 'logger'> = {
  'modules::api::RestApiModule': 'api',
  'modules::streams::StreamModule': 'streams',
  'modules::stream::StreamModule': 'streams',
  'modules::state::StateModule': 'state',
  'modules::event::EventModule': 'event',
  'modules::cron::CronModule': 'cron',
  'modules::observability::LoggingModule': 'logger',
}

/** Log levels of the original's LoggingModule (`RUST_LOG` style) mapped to ours. */
const LEVELS: Record<string, string> = { trace: 'debug', debug: 'debug', info: 'info', warn: 'warn', error: 'error' }

/** The result: a config in our shape and the warnings to log. */
export interface Translated {
  config: Obj
  warnings: string[]
}

/** True when a parsed config file uses the original `modules: [{class, config}]` list. */
export function isOriginalConfig(raw: unknown): boolean {
  return isObj(raw) && Array.isArray(raw.modules)
}

/** Translates a config in the original shape; anything else is returned unchanged. */
export function translateOriginalConfig(raw: Obj): Translated {
  if (!Array.isArray(raw.modules)) return { config: raw, warnings: [] }
  const warnings: string[] = []
  const warned = new Set<string>()
  const warnOnce = (key: string, message: string) => {
    if (warned.has(key)) return
    warned.add(key)
    warnings.push(message)
  }
  const modules: Obj = {}
  const config: Obj = { ...raw, modules }
  raw.modules.forEach((entry, i) => {
    const cls = isObj(entry) ? entry.class : undefined
    if (typeof cls !== 'string') {
      warnOnce(`entry ${i}`, `config: modules[${i}] has no "class"; ignored`)
      return
    }
    const target = CLASSES[cls]
    if (target === undefined) {
      warnOnce(cls, `config: module class ${cls} is not available in this engine; ignored`)
      return
    }
    const given = isObj(entry) && isObj(entry.config) ? entry.config : {}
    const ignored: string[] = []
    const out = translateModule(target, given, ignored, config)
    if (ignored.length > 0) {
      warnOnce(
        `${cls} keys`,
        `config: ${cls}: ${ignored.join(', ')} ${ignored.length === 1 ? 'has' : 'have'} no equivalent here; ignored`,
      )
    }
    if (target !== 'logger') modules[target] = out
  })
  return { config, warnings }
}

function translateModule(target: string, c: Obj, ignored: string[], top: Obj): Obj {
  const out: Obj = {}
  const take = (from: string, to: string, map: (v: unknown) => unknown = (v) => v) => {
    if (c[from] !== undefined) out[to] = map(c[from])
  }
  const known = new Set<string>()
  const use = (...keys: string[]) => {
    for (const k of keys) known.add(k)
  }
  switch (target) {
    case 'api': {
      use('host', 'port', 'default_timeout', 'cors')
      take('host', 'host')
      take('port', 'port', num)
      take('default_timeout', 'timeout_ms', num)
      if (isObj(c.cors)) {
        const cors: Obj = {}
        if (c.cors.allowed_origins !== undefined) cors.origins = c.cors.allowed_origins
        for (const k of Object.keys(c.cors)) if (k !== 'allowed_origins') ignored.push(`cors.${k}`)
        out.cors = cors
      }
      break
    }
    case 'streams':
      use('host', 'port', 'auth_function', 'adapter')
      take('host', 'host')
      take('port', 'port', num)
      take('auth_function', 'auth_function')
      Object.assign(out, translateAdapter(c.adapter, ignored))
      break
    case 'state':
      use('adapter')
      Object.assign(out, translateAdapter(c.adapter, ignored))
      break
    case 'event':
    case 'cron':
      // Both run in the engine process; the original's adapters (Redis locks, queues) do not apply.
      use('adapter')
      if (isObj(c.adapter) && typeof c.adapter.class === 'string') ignored.push(`adapter ${c.adapter.class}`)
      break
    case 'logger':
      use('level')
      if (typeof c.level === 'string' && LEVELS[c.level] !== undefined && top.log_level === undefined) {
        top.log_level = LEVELS[c.level]
      }
      break
  }
  for (const k of Object.keys(c)) if (!known.has(k)) ignored.push(k)
  return out
}

/** `adapter: {class: ...::KvStore | ...::RedisAdapter, config}` as our `adapter` (and `redis`). */
function translateAdapter(adapter: unknown, ignored: string[]): Obj {
  if (adapter === undefined) return {}
  const cls = isObj(adapter) && typeof adapter.class === 'string' ? adapter.class : ''
  const c = isObj(adapter) && isObj(adapter.config) ? adapter.config : {}
  if (cls.endsWith('::KvStore')) {
    if (c.file_path !== undefined) ignored.push('adapter.config.file_path (the file is <data_dir>/<module>.db)')
    return { adapter: c.store_method === 'in_memory' ? 'memory' : 'sqlite' }
  }
  if (cls.endsWith('::RedisAdapter')) {
    return { adapter: 'redis', ...(typeof c.redis_url === 'string' && { redis: { url: c.redis_url } }) }
  }
  ignored.push(`adapter ${cls || JSON.stringify(adapter)}`)
  return {}
}
