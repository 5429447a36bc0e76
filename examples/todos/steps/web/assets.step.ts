import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ApiRequest, StepConfig } from 'motia'

/** The browser build of @iii-dev/stream-client (its ESM files, imported by the page). */
const dist = dirname(fileURLToPath(import.meta.resolve('@iii-dev/stream-client')))
const files = new Set(readdirSync(dist).filter((f) => f.endsWith('.js')))

export const config: StepConfig = {
  name: 'StreamClientAssets',
  description: 'Serves the stream client modules to the browser',
  triggers: [{ type: 'api', path: '/assets/stream-client/:file', method: 'GET' }],
  flows: ['todos'],
}

export const handler = async (req: ApiRequest) => {
  const file = req.path_params.file
  if (!files.has(file)) return { status: 404, body: { error: 'not_found' } }
  return {
    status: 200,
    headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' },
    body: readFileSync(join(dist, file), 'utf8'),
  }
}
