/**
 * OpenAPI 3.1: `motia openapi` (offline) and `GET /__motia/openapi.json` (on `motia dev`, from
 * what the engine lists) describe the same operations, pass a real OpenAPI validator, and the
 * requests built from the document get the documented answers from the running app; a worker
 * that is not Motia Node (registered by the convention, as Python Motia does) appears too.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { after, before, test } from 'node:test'
import { Bridge } from '@iii-dev/sdk'
import { eventually, repoRoot } from '@iii-dev/testkit'
import { Validator } from '@seriousme/openapi-schema-validator'
import { copyFixture, freePort, http, type MotiaProcess, motiaCli, startMotia } from './helpers.ts'

const require = createRequire(import.meta.url)
const Ajv2020 = require('ajv/dist/2020').default
const ajv = new Ajv2020({ strict: false, allErrors: true })
require('ajv-formats').default(ajv)

let dir: string
let motia: MotiaProcess
let api: string
let bridgeUrl: string
const cleanups: Array<() => unknown> = []
const cleanup = { after: (fn: () => unknown) => cleanups.push(fn) }
after(async () => {
  for (const fn of cleanups.reverse()) await fn()
})

before(async () => {
  dir = copyFixture(cleanup, 'original')
  const port = await freePort()
  bridgeUrl = `ws://127.0.0.1:${port}`
  motia = startMotia(cleanup, ['dev', dir, '--api-port', '0', '--streams-port', '0'], { III_BRIDGE_URL: bridgeUrl })
  await motia.waitFor('[motia] ready', 30_000)
  api = /engine started: api (\S+)/.exec(motia.output())?.[1] as string
})

/** `motia openapi <dir>` as its own process: stdout and exit code. */
function offlineDocument(): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, ['--import', 'tsx', motiaCli, 'openapi', dir], { cwd: repoRoot })
    let out = ''
    let err = ''
    p.stdout.setEncoding('utf8').on('data', (d) => (out += d))
    p.stderr.setEncoding('utf8').on('data', (d) => (err += d))
    p.once('exit', (code) => res({ code, out, err }))
  })
}

async function assertValid(doc: unknown): Promise<void> {
  const res = await new Validator().validate(doc as object)
  assert.ok(res.valid, `not a valid OpenAPI document: ${JSON.stringify(res.errors, null, 2)}`)
}

/** A value that matches a JSON Schema (enough of it for these documents). */
function sample(s: any): unknown {
  if (s === undefined || s === true) return {}
  if ('const' in s) return s.const
  if (Array.isArray(s.enum)) return s.enum[0]
  if (Array.isArray(s.anyOf)) return sample(s.anyOf[0])
  const type = Array.isArray(s.type) ? s.type[0] : s.type
  switch (type) {
    case 'string':
      return s.format === 'date-time' ? new Date().toISOString() : 'x'.repeat(Math.max(1, s.minLength ?? 1))
    case 'number':
    case 'integer':
      return s.minimum ?? 1
    case 'boolean':
      return true
    case 'array':
      return [sample(s.items)]
    default: {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = sample(v)
      return out
    }
  }
}

test('motia openapi prints a valid OpenAPI 3.1 document of the API steps, schemas included', async () => {
  const { code, out, err } = await offlineDocument()
  assert.equal(code, 0, err)
  const doc = JSON.parse(out)
  await assertValid(doc)
  assert.equal(doc.openapi, '3.1.0')
  assert.deepEqual(doc.info, {
    title: 'original-app',
    version: '1.2.3',
    description: 'Step files written for the original @iii-dev/motia, unchanged',
  })
  const create = doc.paths['/todo'].post
  assert.equal(create.summary, 'Create a new todo item')
  assert.deepEqual(create.requestBody.content['application/json'].schema.required, ['description'])
  assert.ok(create.responses['200'].content['application/json'].schema.properties.createdAt)
  assert.ok(create.responses['400'], 'the declared 400')
  assert.deepEqual(create.parameters, [
    {
      name: 'inbox',
      in: 'query',
      required: false,
      description: 'which inbox (default: inbox)',
      schema: { type: 'string' },
    },
  ])
  const update = doc.paths['/todo/{todoId}'].put
  assert.deepEqual(update.parameters[0], { name: 'todoId', in: 'path', required: true, schema: { type: 'string' } })
  assert.deepEqual(Object.keys(update.responses).sort(), ['200', '400', '404'])
  // every schema in it is valid JSON Schema 2020-12 (what OpenAPI 3.1 uses)
  for (const [path, ops] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(ops)) {
      const schemas = [op.requestBody?.content['application/json'].schema]
      for (const r of Object.values<any>(op.responses)) schemas.push(r.content?.['application/json']?.schema)
      for (const s of schemas.filter(Boolean)) assert.doesNotThrow(() => ajv.compile(s), `${method} ${path}`)
    }
  }
})

test('GET /__motia/openapi.json on motia dev: the same operations, plus other workers by the convention', async () => {
  const offline = JSON.parse((await offlineDocument()).out)
  const worker = new Bridge({ url: bridgeUrl, forwardLogs: false, logLevel: 'silent' })
  cleanups.push(() => worker.close())
  // what Python Motia registers for an api step (docs/openapi.md)
  worker.registerFunction({
    function_path: 'steps.PyGreet:trigger:0',
    request_format: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } },
    response_format: {
      '200': { type: 'object', required: ['greeting'], properties: { greeting: { type: 'string' } } },
    },
    metadata: { motia: { step: 'PyGreet', description: 'Greets from another worker' } },
    handler: async (req: any) => ({ status: 200, body: { greeting: `hi ${req.body.name}` } }),
  })
  worker.registerTrigger({
    trigger_type: 'api',
    function_path: 'steps.PyGreet:trigger:0',
    config: { api_path: '/py/greet', http_method: 'POST' },
  })
  await worker.connect()
  const served = await eventually(async () => {
    const r = await http(api, 'GET', '/__motia/openapi.json')
    return r.status === 200 && r.body.paths['/py/greet'] && r.body
  })
  await assertValid(served)
  for (const [path, ops] of Object.entries<any>(offline.paths)) {
    assert.deepEqual(served.paths[path], ops, `${path} is described the same way from the engine`)
  }
  assert.equal(served.paths['/__motia/openapi.json'], undefined, 'the document route is left out')
  const greet = served.paths['/py/greet'].post
  assert.equal(greet.summary, 'Greets from another worker')
  assert.deepEqual(greet.requestBody.content['application/json'].schema.required, ['name'])

  // requests built from the document get the documented answers
  const check = (schema: any, body: unknown, what: string) => {
    const validate = ajv.compile(schema)
    assert.ok(validate(body), `${what}: ${JSON.stringify(validate.errors)} for ${JSON.stringify(body)}`)
  }
  const create = served.paths['/todo'].post
  const body = sample(create.requestBody.content['application/json'].schema)
  const ok = await http(api, 'POST', '/todo', body)
  assert.equal(ok.status, 200)
  check(create.responses['200'].content['application/json'].schema, ok.body, 'POST /todo 200')
  const bad = await http(api, 'POST', '/todo', {})
  assert.equal(bad.status, 400)
  check(create.responses['400'].content['application/json'].schema, bad.body, 'POST /todo 400')

  const update = served.paths['/todo/{todoId}'].put
  const upd = await http(
    api,
    'PUT',
    `/todo/${ok.body.id}`,
    sample(update.requestBody.content['application/json'].schema),
  )
  assert.equal(upd.status, 200)
  check(update.responses['200'].content['application/json'].schema, upd.body, 'PUT /todo/{todoId} 200')
  const none = await http(api, 'PUT', '/todo/nope', {})
  assert.equal(none.status, 404)
  check(update.responses['404'].content['application/json'].schema, none.body, 'PUT /todo/{todoId} 404')

  const py = await http(api, 'POST', '/py/greet', sample(greet.requestBody.content['application/json'].schema))
  assert.equal(py.status, 200)
  check(greet.responses['200'].content['application/json'].schema, py.body, 'POST /py/greet 200')
})
