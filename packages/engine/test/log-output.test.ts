/**
 * What the engine prints: every 4xx answer as one info line with its status (route pattern and
 * function for matched requests; the path without its query string otherwise), and worker log
 * records (`logger.log`) once each, or not at all with III_WORKER_LOGS=quiet (for a terminal
 * where the workers print their own lines).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually, startEngine } from '@iii-dev/testkit'
import { RawClient } from './raw.ts'

async function post(base: string, path: string, body: string) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  await res.text()
  return res.status
}

test('4xx answers are logged at info with their status; no query string is logged', async (t) => {
  const engine = await startEngine(t)
  const worker = await RawClient.connect(t, engine.bridgeUrl)
  worker.register('items.create', (data) =>
    data.body?.name ? { status: 201, body: data.body } : { status: 409, body: { error: 'conflict' } },
  )
  worker.send({
    type: 'registertrigger',
    id: 'r1',
    trigger_type: 'api',
    function_path: 'items.create',
    config: { api_path: '/items', http_method: 'POST' },
  })
  await eventually(async () => (await post(engine.apiUrl, '/items', '{"name":"a"}')) === 201)

  assert.equal(await post(engine.apiUrl, '/items', '{}'), 409)
  assert.equal(await post(engine.apiUrl, '/items', '{bad json'), 400)
  assert.equal((await fetch(`${engine.apiUrl}/missing/thing?token=sekrit`)).status, 404)
  assert.equal((await fetch(`${engine.apiUrl}/items`, { method: 'DELETE' })).status, 405)

  const expected = [
    /INFO {2}api: POST \/items \(items\.create\) -> 409 conflict$/m,
    /INFO {2}api: POST \/items \(items\.create\) -> 400 invalid_json$/m,
    /INFO {2}api: GET \/missing\/thing -> 404 not_found$/m,
    /INFO {2}api: DELETE \/items -> 405 method_not_allowed$/m,
  ]
  await eventually(() => expected.every((re) => re.test(engine.output())))
  assert.doesNotMatch(engine.output(), /sekrit/)
  assert.doesNotMatch(engine.output(), /-> 201/, '2xx answers are not logged')
})

test('a worker log record prints once; III_WORKER_LOGS=quiet accepts it without printing', async (t) => {
  for (const quiet of [false, true]) {
    const engine = await startEngine(t, { env: quiet ? { III_WORKER_LOGS: 'quiet' } : {} })
    const worker = await RawClient.connect(t, engine.bridgeUrl)
    const marker = `record-${quiet}-${Date.now()}`
    const answer = await worker.call('logger.log', { level: 'info', message: marker, trace_id: 'abc' })
    assert.equal(answer.type, 'invocationresult')
    assert.equal(answer.error, undefined, 'accepted')
    const bad = await worker.call('logger.log', { level: 'loud', message: marker })
    assert.equal(bad.error?.code, 'invalid_argument', 'still validated when quiet')
    // a later 4xx line shows the engine wrote what it had before
    await fetch(`${engine.apiUrl}/flush-marker`)
    await eventually(() => engine.output().includes('flush-marker'))
    const count = engine.output().split(marker).length - 1
    assert.equal(count, quiet ? 0 : 1, engine.output())
  }
})
