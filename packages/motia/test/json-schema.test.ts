/**
 * JSON Schema (not Zod) schemas, validated with Ajv through a real engine: a query coerced and
 * defaulted, a 2020-12 body, a stream item, and a schema that does not compile refused at load.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startEngine } from '@iii-dev/testkit'
import { http, startMotia } from './helpers.ts'

function project(t: { after(fn: () => unknown): void }, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'motia-jsonschema-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true })
    writeFileSync(join(dir, file), text)
  }
  return dir
}

test('JSON Schema query (coerced, defaulted), 2020-12 body and stream item are validated with Ajv', async (t) => {
  const engine = await startEngine(t)
  const dir = project(t, {
    'streams/notes.stream.ts': `
export const config = { name: 'notes', schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } }
`,
    'steps/list.step.ts': `
export const config = { name: 'List', triggers: [{ type: 'api', path: '/list', method: 'GET',
  querySchema: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, default: 10 } } } }] }
export const handler = async (req) => ({ status: 200, body: { query: req.query_params, alias: req.queryParams } })
`,
    'steps/note.step.ts': `
export const config = { name: 'Note', triggers: [{ type: 'api', path: '/notes/:id', method: 'PUT',
  bodySchema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object',
    properties: { text: {}, tags: { type: 'array', prefixItems: [{ type: 'string' }], items: false } } } }] }
export const handler = async (req, ctx) => {
  try {
    await ctx.streams.notes.set('all', req.pathParams.id, req.body)
    return { status: 200, body: await ctx.streams.notes.get('all', req.pathParams.id) }
  } catch (err) {
    return { status: 422, body: { error: err.message } }
  }
}
`,
  })
  const m = startMotia(t, ['start', dir], { III_BRIDGE_URL: engine.bridgeUrl })
  await m.waitFor('[motia] ready')
  const api = engine.apiUrl

  const five = await http(api, 'GET', '/list?limit=5')
  assert.equal(five.status, 200)
  assert.deepEqual(five.body, { query: { limit: 5 }, alias: { limit: 5 } }, 'coerced to an integer')
  assert.deepEqual((await http(api, 'GET', '/list')).body.query, { limit: 10 }, 'the default is filled in')
  const bad = await http(api, 'GET', '/list?limit=x')
  assert.equal(bad.status, 400)
  assert.equal(bad.body.in, 'query_params')
  assert.deepEqual(bad.body.issues[0].path, ['limit'])
  assert.equal(bad.body.issues[0].code, 'type')

  assert.equal((await http(api, 'PUT', '/notes/n1', { text: 'hi', tags: ['a'] })).status, 200)
  const tuple = await http(api, 'PUT', '/notes/n1', { text: 'hi', tags: ['a', 'b'] })
  assert.equal(tuple.status, 400, '2020-12 prefixItems/items:false is understood')
  const item = await http(api, 'PUT', '/notes/n2', { tags: [] })
  assert.equal(item.status, 422)
  assert.match(item.body.error, /stream notes: invalid item at text: must have required property 'text'/)
})

test('a JSON Schema that does not compile is a load error naming the field', async (t) => {
  const engine = await startEngine(t)
  const dir = project(t, {
    'steps/broken.step.ts': `
export const config = { name: 'Broken', triggers: [{ type: 'api', path: '/b', method: 'POST', bodySchema: { type: 'nope' } }] }
export const handler = async () => ({ status: 200 })
`,
  })
  const m = startMotia(t, ['start', dir], { III_BRIDGE_URL: engine.bridgeUrl })
  await m.waitFor('could not be loaded')
  assert.match(m.output(), /steps\/broken\.step\.ts: config\.triggers\[0\]\.bodySchema: schema is invalid/)
})
