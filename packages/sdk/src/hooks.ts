/**
 * Hooks: one call registers a function and the trigger that runs it. The module-level hooks
 * use the default bridge; `createHooks(bridge)` binds them to another one.
 *
 *   useApi({ api_path: '/users', http_method: 'POST' }, async (req) => ({ status: 201, body: req.body }))
 *   useEvent('user.created', async (user) => { ... })
 *   useCron('0 * * * *', async () => { ... })
 *   useFunctionsAvailable((functions) => { ... })
 */
import { randomUUID } from 'node:crypto'
import { useDefault } from './default-slot.js'
import { requireText } from './registrations.js'
import type { FunctionHandler, Registrar, Registration } from './types.js'

/** The request an `api` trigger passes to its function (see docs/http.md). */
export interface ApiRequest<TBody = any> {
  method: string
  path: string
  path_params: Record<string, string>
  query_params: Record<string, string | string[]>
  headers: Record<string, string | string[]>
  body: TBody
}

/** What an `api` function returns; `status_code` is accepted for `status`. */
export interface ApiResponse<TBody = unknown> {
  status?: number
  status_code?: number
  body?: TBody
  headers?: Record<string, string>
}

export interface ApiConfig {
  api_path: string
  http_method: string
  description?: string
  metadata?: Record<string, unknown>
}

/** What `cron` triggers pass: ISO-8601 times. */
export interface CronInput {
  scheduled_time: string
  actual_time: string
}

/** One entry of `engine.functions.list`. */
export interface FunctionInfo {
  function_path: string
  description?: string
  metadata?: Record<string, unknown>
  workers: number
}

export interface HookOptions {
  /** The function's path; default: derived from the trigger plus a unique suffix. */
  function_path?: string
  description?: string
}

/** A hook's registration: its function and its trigger. `unregister()` removes both. */
export interface HookRef extends Registration {
  function_path: string
  trigger_id: string
}

export interface Hooks {
  /** Serves an HTTP route: registers `api.{method}.{api_path}` and an `api` trigger. */
  useApi<TBody = any>(config: ApiConfig, handler: FunctionHandler<ApiRequest<TBody>, ApiResponse | unknown>): HookRef
  /** Runs `handler` with the data of every event emitted on `topic`. */
  useEvent<T = any>(topic: string, handler: FunctionHandler<T, unknown>, options?: HookOptions): HookRef
  /** Runs `handler` on a cron schedule (5 fields, or 6 with seconds first). */
  useCron(
    expression: string,
    handler: FunctionHandler<CronInput, unknown>,
    options?: HookOptions & { timezone?: string },
  ): HookRef
  /** Calls `callback` with the engine's function list whenever the set of functions changes. */
  useFunctionsAvailable(callback: (functions: FunctionInfo[]) => unknown): HookRef
}

function shortId(): string {
  return randomUUID().slice(0, 8)
}

/**
 * Hooks bound to `bridge` (any {@link Registrar}), or to the default bridge (looked up at each
 * call) when left out. Like the registration methods, a hook returns a handle, so a bad
 * argument throws an `IIIError` (`invalid_argument`) at once.
 */
export function createHooks(bridge?: Registrar): Hooks {
  const b = () => bridge ?? useDefault()
  const bind = (
    function_path: string,
    handler: FunctionHandler,
    trigger_type: string,
    config: Record<string, unknown>,
    description?: string,
  ): HookRef => {
    const target = b()
    const fn = target.registerFunction({ function_path, handler, description })
    let trigger: Registration & { id: string }
    try {
      trigger = target.registerTrigger({ trigger_type, function_path, config })
    } catch (err) {
      fn.unregister()
      throw err
    }
    return {
      function_path,
      trigger_id: trigger.id,
      unregister() {
        trigger.unregister()
        fn.unregister()
      },
    }
  }
  return {
    useApi(config, handler) {
      requireText('api_path', config?.api_path)
      requireText('http_method', config.http_method)
      const method = config.http_method.toLowerCase()
      const triggerConfig: Record<string, unknown> = {
        api_path: config.api_path,
        http_method: config.http_method.toUpperCase(),
      }
      if (config.description !== undefined) triggerConfig.description = config.description
      if (config.metadata !== undefined) triggerConfig.metadata = config.metadata
      return bind(`api.${method}.${config.api_path}`, handler, 'api', triggerConfig, config.description)
    },
    useEvent(topic, handler, options = {}) {
      requireText('topic', topic)
      const path = options.function_path ?? `event.${topic}.${shortId()}`
      return bind(path, handler, 'event', { topic }, options.description)
    },
    useCron(expression, handler, options = {}) {
      requireText('expression', expression)
      const path = options.function_path ?? `cron.${shortId()}`
      const config: Record<string, unknown> = { expression }
      if (options.timezone !== undefined) config.timezone = options.timezone
      return bind(path, handler, 'cron', config, options.description)
    },
    useFunctionsAvailable(callback) {
      const path = `sdk.functions_available.${shortId()}`
      return bind(
        path,
        async (data: { functions?: FunctionInfo[] }) => {
          await callback(data?.functions ?? [])
          return null
        },
        'functions_available',
        {},
      )
    },
  }
}

const defaultHooks = createHooks()

/** {@link Hooks.useApi} on the default bridge. */
export const useApi: Hooks['useApi'] = (config, handler) => defaultHooks.useApi(config, handler)
/** {@link Hooks.useEvent} on the default bridge. */
export const useEvent: Hooks['useEvent'] = (topic, handler, options) => defaultHooks.useEvent(topic, handler, options)
/** {@link Hooks.useCron} on the default bridge. */
export const useCron: Hooks['useCron'] = (expression, handler, options) =>
  defaultHooks.useCron(expression, handler, options)
/** {@link Hooks.useFunctionsAvailable} on the default bridge. */
export const useFunctionsAvailable: Hooks['useFunctionsAvailable'] = (callback) =>
  defaultHooks.useFunctionsAvailable(callback)
