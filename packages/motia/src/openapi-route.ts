/**
 * `GET /__motia/openapi.json` on `motia dev`: the document is built at each request from what
 * the engine lists (`engine.functions.list` + `engine.triggers.list`), so the API steps of
 * every worker on the engine appear, Python ones included, as they are at that moment.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Bridge, JsonObject, Registration } from '@iii-dev/sdk'
import { buildOpenApi, type ListedFunction, OPENAPI_PATH, type OpenApiInfo } from './openapi.js'
import { appName } from './project.js'

/** The document's `info`: the project's package.json name and version. */
export function projectInfo(root: string): OpenApiInfo {
  let version = '0.0.0'
  let description: string | undefined
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>
    if (typeof pkg.version === 'string') version = pkg.version
    if (typeof pkg.description === 'string') description = pkg.description
  } catch {
    // no package.json: defaults
  }
  return { title: appName(root), version, ...(description && { description }) }
}

/** Registers the document's function (`motia.openapi`) and its route. */
export function registerOpenApiRoute(bridge: Bridge, root: string): Registration[] {
  const fn = bridge.registerFunction({
    function_path: 'motia.openapi',
    description: 'The OpenAPI 3.1 document of the api triggers on this engine',
    handler: async () => {
      const [functions, triggers] = await Promise.all([
        bridge.invokeFunction<{ functions: ListedFunction[] }>('engine.functions.list', {}),
        bridge.invokeFunction<{ triggers: { trigger_type: string; function_path: string; config: JsonObject }[] }>(
          'engine.triggers.list',
          {},
        ),
      ])
      return { status: 200, body: buildOpenApi(functions.functions, triggers.triggers, projectInfo(root)) }
    },
  })
  const trigger = bridge.registerTrigger({
    trigger_type: 'api',
    function_path: 'motia.openapi',
    config: { api_path: OPENAPI_PATH, http_method: 'GET' },
  })
  return [trigger, fn]
}
