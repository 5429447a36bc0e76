// The console server's guards: off loopback it needs a token, and with a token every request
// must carry it (a real listener and real HTTP requests); and the console started by the engine
// process from its config file.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startEngine } from '@iii-dev/testkit'
import { startConsole } from '../src/modules/console/server.ts'
import { RawClient } from './raw.ts'

const echo = async (path: string, data: unknown) => ({ path, data })

test('the console refuses a non-loopback address without a token', async () => {
  await assert.rejects(
    startConsole({ port: 0, host: '0.0.0.0' }, echo),
    /refuses to listen on 0\.0\.0\.0 without a token/,
  )
})

test('with a token, requests without it get 401 and requests with it get through', async (t) => {
  const server = await startConsole({ port: 0, token: 's3cret' }, echo)
  t.after(() => server.close())
  const body = JSON.stringify({ function_path: 'engine.workers.list', data: { a: 1 } })
  const none = await fetch(`${server.url}/api/invoke`, { method: 'POST', body })
  assert.equal(none.status, 401)
  assert.equal(((await none.json()) as any).error.code, 'unauthorized')
  const wrong = await fetch(`${server.url}/?token=nope`)
  assert.equal(wrong.status, 401)
  const ok = await fetch(`${server.url}/api/invoke`, {
    method: 'POST',
    body,
    headers: { authorization: 'Bearer s3cret' },
  })
  assert.equal(ok.status, 200)
  assert.deepEqual(await ok.json(), { result: { path: 'engine.workers.list', data: { a: 1 } } })
  const page = await fetch(`${server.url}/?token=s3cret`)
  assert.equal(page.status, 200)
  assert.match(await page.text(), /<title>iii console<\/title>/)
  const get = await fetch(`${server.url}/api/invoke?token=s3cret`)
  assert.equal(get.status, 405)
})

test('console: in the config file starts the console with the engine; its URL is in the ready line', async (t) => {
  const engine = await startEngine(t, {
    config: 'console:\n  port: 0\n  token: ${CONSOLE_TOKEN}\n',
    env: { CONSOLE_TOKEN: 'tok' },
  })
  const url = engine.ready.console as string
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.match(engine.output(), new RegExp(`console\\s+${url}`))
  const w = await RawClient.connect(t, engine.bridgeUrl)
  w.register('console.probe', () => 'ok')
  await w.call('engine.functions.list', {}) // answered after the registration before it
  const res = await fetch(`${url}/api/invoke`, {
    method: 'POST',
    headers: { authorization: 'Bearer tok' },
    body: JSON.stringify({ function_path: 'console.probe', data: {} }),
  })
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { result: 'ok' })
  assert.equal((await fetch(`${url}/api/invoke`, { method: 'POST', body: '{}' })).status, 401)
})

test('an engine configured with the console off loopback and no token refuses to start, naming why', async (t) => {
  await assert.rejects(
    startEngine(t, { config: 'console: {host: 0.0.0.0, port: 0}\n' }),
    /console: .*refuses to listen on 0\.0\.0\.0 without a token/,
  )
})

test('without --console or console: no console listens and the ready line has no console key', async (t) => {
  const engine = await startEngine(t)
  assert.equal(engine.ready.console, undefined)
})
