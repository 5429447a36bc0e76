// The console server's guards: off loopback it needs a token, and with a token every request
// must carry it (a real listener and real HTTP requests).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startConsole } from '../src/modules/console/server.ts'

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
