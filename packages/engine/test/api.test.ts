/**
 * The HTTP `api` trigger through a real engine process: routing, the ApiRequest, response
 * mapping, every error status, limits (R13), path tricks (R14), CORS (R15), slow sockets (R19),
 * secrets kept out of logs (R20) and a worker killed mid-request (R1).
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { type EngineProcess, eventually, repoRoot, startEngine, startWorker } from '@iii-dev/testkit'
import { NO_ANSWER, RawClient } from './raw.ts'

interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  text: string
  json: any
  ms: number
}

interface RequestOptions {
  headers?: Record<string, string | number>
  body?: string | Buffer
  /** Send the body in these pieces with chunked encoding (no content-length). */
  chunks?: Buffer[]
}

/** One HTTP request with the path sent exactly as given (no URL normalization on our side). */
function request(base: string, method: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
  const { hostname, port } = new URL(base)
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers }
    if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body)
    const req = http.request({ host: hostname, port, method, path, headers, agent: false }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c) => parts.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8')
        let json: any
        try {
          json = text === '' ? undefined : JSON.parse(text)
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, ms: Date.now() - started })
      })
    })
    req.on('error', reject)
    if (opts.chunks !== undefined) {
      for (const c of opts.chunks) req.write(c)
      req.end()
    } else {
      req.end(opts.body)
    }
  })
}

/** Writes raw bytes to the API port and returns everything it answers until it closes. */
function rawExchange(base: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(bytes))
    let out = ''
    socket.setEncoding('utf8')
    socket.on('data', (d) => (out += d))
    socket.on('close', () => resolve(out))
    socket.on('error', (err) => (out ? resolve(out) : reject(err)))
    setTimeout(() => socket.destroy(), 5000)
  })
}

/** Registers an `api` trigger and waits until the engine routes its path. */
async function route(
  base: string,
  client: RawClient,
  id: string,
  method: string,
  apiPath: string,
  fn: string,
  probe = apiPath,
): Promise<void> {
  client.send({
    type: 'registertrigger',
    id,
    trigger_type: 'api',
    function_path: fn,
    config: { api_path: apiPath, http_method: method },
  })
  await eventually(async () => (await request(base, 'OPTIONS', probe)).status === 204)
}

const ORIGIN = 'https://app.example'
const MAIN_CONFIG = `modules:
  api:
    body_limit: 1024
    timeout_ms: 1000
    cors:
      origins: ["${ORIGIN}"]
      credentials: true
`

describe('api trigger', () => {
  let engine: EngineProcess
  let api: string
  let worker: RawClient
  const calls = new Map<string, number>()
  const count = (fn: string) => calls.get(fn) ?? 0
  const serve = (fn: string, handler: (data: any, frame: any) => unknown) =>
    worker.register(fn, (data, frame) => {
      calls.set(fn, count(fn) + 1)
      return handler(data, frame)
    })
  // R19: sockets that never finish their headers, opened at the start and checked at the end.
  const slowSockets: Array<{ opened: number; closed?: number }> = []
  // Cleanups registered while the suite runs, run once it ends (node:test's after() inside a
  // before hook would run at the end of the hook).
  const cleanups: Array<() => unknown> = []
  const suite = { after: (fn: () => unknown) => cleanups.push(fn) }
  after(async () => {
    for (const fn of cleanups.reverse()) await fn()
  })

  before(async () => {
    engine = await startEngine(suite, { config: MAIN_CONFIG })
    api = engine.apiUrl
    const { hostname, port } = new URL(api)
    for (let i = 0; i < 20; i++) {
      const s = { opened: Date.now() } as { opened: number; closed?: number }
      slowSockets.push(s)
      // Half send a request line and part of the headers, half send nothing at all.
      const socket = net.connect(Number(port), hostname, () => {
        if (i % 2 === 0) socket.write('GET /echo HTTP/1.1\r\nhost: x\r\nx-slow: ')
      })
      socket.resume()
      socket.on('error', () => {})
      socket.on('close', () => (s.closed = Date.now()))
      suite.after(() => socket.destroy())
    }
    worker = await RawClient.connect(suite, engine.bridgeUrl)
    serve('api.echo', (data, frame) => ({ data, trigger: frame.trigger }))
    serve('api.result', (data) => data.body)
    serve('api.admin', () => ({ admin: true }))
    serve('api.boom', () => {
      throw new Error('db password hunter2 leaked in message')
    })
    serve('api.never', () => NO_ANSWER)
    serve('api.guarded', () => ({ passed: true }))
    serve('api.guard', (data) => data.query_params.allow === 'yes')
    worker.send({ type: 'registercondition', function_path: 'api.guarded', condition_function_path: 'api.guard' })
    await route(api, worker, 'r-echo', 'post', '/users/:id', 'api.echo', '/users/1')
    await route(api, worker, 'r-echo-get', 'GET', 'echo/', 'api.echo', '/echo')
    await route(api, worker, 'r-result', 'POST', '/result', 'api.result')
    await route(api, worker, 'r-admin', 'GET', '/admin', 'api.admin')
    await route(api, worker, 'r-file', 'GET', '/files/:name', 'api.echo', '/files/x')
    await route(api, worker, 'r-boom', 'GET', '/boom', 'api.boom')
    await route(api, worker, 'r-never', 'GET', '/never', 'api.never')
    await route(api, worker, 'r-guarded', 'GET', '/guarded', 'api.guarded')
    await route(api, worker, 'r-nofn', 'GET', '/nofn', 'api.not.registered')
  })

  const result = (value: unknown, headers?: Record<string, string>) =>
    request(api, 'POST', '/result', { body: JSON.stringify(value), headers })

  test('a request becomes an ApiRequest: params, query, headers, JSON body, trigger metadata', async () => {
    const r = await request(api, 'POST', '/users/a%20b?x=1&x=2&y=z&empty', {
      headers: { 'X-Custom': 'Yes', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada', tags: [1, 2], nested: { ok: true } }),
    })
    assert.equal(r.status, 200)
    assert.match(String(r.headers['content-type']), /^application\/json/)
    const { data, trigger } = r.json
    assert.equal(data.method, 'POST')
    assert.equal(data.path, '/users/:id')
    assert.deepEqual(data.path_params, { id: 'a b' })
    assert.deepEqual(data.query_params, { x: ['1', '2'], y: 'z', empty: '' })
    assert.equal(data.headers['x-custom'], 'Yes')
    assert.equal(data.headers['content-type'], 'application/json')
    assert.deepEqual(data.body, { name: 'Ada', tags: [1, 2], nested: { ok: true } })
    assert.deepEqual(trigger, { type: 'api', id: 'r-echo', path: '/users/:id', method: 'POST' })
  })

  test('bodies: text stays text, no content type means JSON, +json is JSON, empty is null', async () => {
    const text = await request(api, 'POST', '/users/1', {
      headers: { 'content-type': 'text/plain' },
      body: '{not json',
    })
    assert.equal(text.json.data.body, '{not json')
    const bare = await request(api, 'POST', '/users/1', { body: '[1,"2"]' })
    assert.deepEqual(bare.json.data.body, [1, '2'])
    const vendor = await request(api, 'POST', '/users/1', {
      headers: { 'content-type': 'application/vnd.api+json; charset=utf-8' },
      body: '\ufeff{"a":1}',
    })
    assert.deepEqual(vendor.json.data.body, { a: 1 })
    const empty = await request(api, 'POST', '/users/1', { body: '' })
    assert.equal(empty.json.data.body, null)
    const get = await request(api, 'GET', '/echo/')
    assert.equal(get.status, 200, 'a trailing slash is ignored, in the config and in requests')
    assert.equal(get.json.data.body, null)
    assert.equal(get.json.data.path, '/echo', 'a missing leading slash in api_path is added')
    const chunked = await request(api, 'POST', '/users/1', { chunks: [Buffer.from('{"a":'), Buffer.from('[1,2]}')] })
    assert.deepEqual(chunked.json.data.body, { a: [1, 2] })
  })

  test('results map to responses: status, status_code, headers, raw and JSON bodies, 204', async () => {
    const created = await result({
      status: 201,
      body: { id: 7 },
      headers: { 'X-Made': 'yes', 'set-cookie': ['a=1', 'b=2'] },
    })
    assert.equal(created.status, 201)
    assert.deepEqual(created.json, { id: 7 })
    assert.equal(created.headers['x-made'], 'yes')
    assert.deepEqual(created.headers['set-cookie'], ['a=1', 'b=2'])
    const code = await result({ status_code: 202, body: 'queued' })
    assert.equal(code.status, 202)
    assert.equal(code.text, '"queued"', 'a string body without a content type is sent as JSON')
    const html = await result({ status: 200, body: '<p>hi</p>', headers: { 'content-type': 'text/html' } })
    assert.equal(html.text, '<p>hi</p>')
    assert.equal(html.headers['content-type'], 'text/html')
    const plain = await result({ status: 'ok', items: [1] })
    assert.equal(plain.status, 200)
    assert.deepEqual(plain.json, { status: 'ok', items: [1] }, 'a non-numeric status is just data')
    const list = await result([1, 2])
    assert.deepEqual(list.json, [1, 2])
    const nothing = await result(null)
    assert.equal(nothing.status, 204)
    assert.equal(nothing.text, '')
    const noBody = await result({ status: 404 })
    assert.equal(noBody.status, 404)
    assert.equal(noBody.text, '')
    const framing = await result({
      status: 200,
      body: { a: 1 },
      headers: { 'content-length': '1', connection: 'close' },
    })
    assert.deepEqual(framing.json, { a: 1 }, 'framing headers from the handler are ignored')
  })

  test('results that cannot be sent become a clear 500 invalid_response', async () => {
    for (const bad of [
      { status: 42 },
      { status: 200.5 },
      { status_code: 700, body: {} },
      { status: 200, headers: 'x' },
      { status: 200, headers: ['a'] },
      { status: 200, headers: { 'bad name': 'x' } },
      { status: 200, headers: { 'x-a': 'line\nbreak' } },
      { status: 200, headers: { 'x-a': { nested: true } } },
    ]) {
      const r = await result(bad)
      assert.equal(r.status, 500, JSON.stringify(bad))
      assert.equal(r.json.error, 'invalid_response')
      assert.equal(typeof r.json.message, 'string')
    }
    assert.equal((await request(api, 'GET', '/admin')).status, 200, 'the engine is still fine')
  })

  test('404 for no route, 405 with allow for another method, HEAD answers from GET', async () => {
    const missing = await request(api, 'GET', '/nothing/here')
    assert.equal(missing.status, 404)
    assert.deepEqual(missing.json, { error: 'not_found', message: 'no route matches this path' })
    const wrong = await request(api, 'DELETE', '/users/1')
    assert.equal(wrong.status, 405)
    assert.equal(wrong.json.error, 'method_not_allowed')
    assert.equal(wrong.headers.allow, 'POST, OPTIONS')
    const head = await request(api, 'HEAD', '/admin')
    assert.equal(head.status, 200)
    assert.equal(head.text, '')
    assert.equal(head.headers['content-length'], String(JSON.stringify({ admin: true }).length))
    const badEscape = await request(api, 'GET', '/users/%E0%A4%A')
    assert.equal(badEscape.status, 400)
    assert.equal(badEscape.json.error, 'bad_request')
  })

  test('R13: malformed, too deep and __proto__ JSON get 400; the handler never runs', async () => {
    const before = count('api.echo')
    const bad = await request(api, 'POST', '/users/1', { body: '{"a":' })
    assert.equal(bad.status, 400)
    assert.equal(bad.json.error, 'invalid_json')
    const deep = await request(api, 'POST', '/users/1', { body: `${'['.repeat(129)}${']'.repeat(129)}` })
    assert.equal(deep.status, 400)
    assert.equal(deep.json.error, 'json_too_deep')
    // Brackets inside strings do not count; exactly the limit is fine.
    const ok = await request(api, 'POST', '/users/1', { body: `{"s":"[[[\\"[[["}` })
    assert.equal(ok.status, 200)
    const limit = await request(api, 'POST', '/users/1', { body: `${'['.repeat(128)}${']'.repeat(128)}` })
    assert.equal(limit.status, 200)
    for (const body of [
      '{"__proto__":{"polluted":true}}',
      '{"a":[{"__proto__":{"x":1}}]}',
      '{"\\u005f_proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
    ]) {
      const r = await request(api, 'POST', '/users/1', { body })
      assert.equal(r.status, 400, body)
      assert.equal(r.json.error, 'forbidden_json_key')
    }
    assert.equal(count('api.echo'), before + 2, 'only the two valid bodies reached the handler')
  })

  test('R13: bodies over the limit get 413 (declared, streamed, expect-continue); the handler never runs', async () => {
    const before = count('api.echo')
    const declared = await request(api, 'POST', '/users/1', { body: JSON.stringify({ s: 'x'.repeat(2000) }) })
    assert.equal(declared.status, 413)
    assert.equal(declared.json.error, 'payload_too_large')
    assert.equal(declared.headers.connection, 'close')
    const streamed = await request(api, 'POST', '/users/1', {
      chunks: [Buffer.from(`{"s":"${'x'.repeat(800)}`), Buffer.from(`${'x'.repeat(800)}"}`)],
    })
    assert.equal(streamed.status, 413)
    const out = await rawExchange(
      api,
      'POST /users/1 HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 5000000\r\nexpect: 100-continue\r\n\r\n',
    )
    assert.match(out, /^HTTP\/1\.1 413 /)
    assert.doesNotMatch(out, /100 Continue/)
    const fits = await request(api, 'POST', '/users/1', { body: JSON.stringify({ s: 'x'.repeat(900) }) })
    assert.equal(fits.status, 200)
    assert.equal(count('api.echo'), before + 1)
  })

  test('422 when a condition returns false; the handler runs when it returns true', async () => {
    const before = count('api.guarded')
    const refused = await request(api, 'GET', '/guarded?allow=no')
    assert.equal(refused.status, 422)
    assert.equal(refused.json.error, 'condition_failed')
    assert.equal(count('api.guarded'), before)
    const allowed = await request(api, 'GET', '/guarded?allow=yes')
    assert.equal(allowed.status, 200)
    assert.deepEqual(allowed.json, { passed: true })
  })

  test('500 with an error_id when the handler throws: logged, never sent; R20 secrets never logged', async () => {
    const r = await request(api, 'GET', '/boom?token=sekrit-query-token', {
      headers: { authorization: 'Bearer sekrit-bearer', cookie: 'session=sekrit-cookie' },
    })
    assert.equal(r.status, 500)
    assert.equal(r.json.error, 'invocation_failed')
    assert.match(r.json.error_id, /^[0-9a-f-]{36}$/)
    assert.doesNotMatch(r.text, /hunter2|stack|at /)
    await eventually(() => engine.output().includes(r.json.error_id))
    const line = engine
      .output()
      .split('\n')
      .find((l) => l.includes(r.json.error_id)) as string
    assert.match(line, /hunter2/, 'the message is in the engine log, next to the error_id')
    assert.doesNotMatch(engine.output(), /sekrit/)
  })

  test('503 when no worker serves the function, 504 at the timeout (1 s here)', async () => {
    const gone = await request(api, 'GET', '/nofn')
    assert.equal(gone.status, 503)
    assert.equal(gone.json.error, 'function_not_found')
    const slow = await request(api, 'GET', '/never')
    assert.equal(slow.status, 504)
    assert.equal(slow.json.error, 'invocation_timeout')
    assert.ok(slow.ms >= 900 && slow.ms < 1600, `answered after ${slow.ms} ms`)
  })

  test('R14: encoded slashes and dots, double slashes, long params never match a wrong route', async () => {
    const before = count('api.admin')
    for (const path of [
      '/files/a%2Fb',
      '/files/a%2fb',
      '/files/..%2fadmin',
      '/files/%2e%2e',
      '/files/%2E',
      '/files/..',
      '/files/../admin',
      '/files/%2e%2e/admin',
      '/files/%2e%2e%2fadmin',
      '//admin',
      '/x/../admin',
      '/admin/..',
      '/ADMIN',
      '/files//',
      '/files/',
    ]) {
      const r = await request(api, 'GET', path)
      assert.equal(r.status, 404, `${path} -> ${r.status} ${r.text}`)
      assert.equal(r.json.error, 'not_found')
    }
    assert.equal(count('api.admin'), before, 'the admin route was never reached')
    const fine = await request(api, 'GET', `/files/${'a'.repeat(4000)}`)
    assert.equal(fine.status, 200)
    assert.equal(fine.json.data.path_params.name.length, 4000)
    const long = await request(api, 'GET', `/files/${'a'.repeat(10_240)}`)
    assert.equal(long.status, 414)
    assert.equal(long.json.error, 'uri_too_long')
    const huge = await rawExchange(api, `GET /files/${'a'.repeat(20_000)} HTTP/1.1\r\nhost: x\r\n\r\n`)
    assert.match(huge, /^HTTP\/1\.1 431 /)
    assert.match(huge, /"error":"headers_too_large"/)
  })

  test('malformed HTTP gets a JSON 400 and the socket closes', async () => {
    const out = await rawExchange(api, 'HELLO THERE\r\n\r\n')
    assert.match(out, /^HTTP\/1\.1 (400|501) /)
    assert.match(out, /content-type: application\/json/)
    const bad = await rawExchange(api, 'GET /admin HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n')
    assert.match(bad, /^HTTP\/1\.1 400 /)
    assert.match(bad, /"error":"bad_request"/)
  })

  test('R15: CORS echoes listed origins only, with credentials; preflight answered for existing routes', async () => {
    const listed = await request(api, 'GET', '/admin', { headers: { origin: ORIGIN } })
    assert.equal(listed.headers['access-control-allow-origin'], ORIGIN)
    assert.equal(listed.headers['access-control-allow-credentials'], 'true')
    assert.match(String(listed.headers.vary), /origin/i)
    const other = await request(api, 'GET', '/admin', { headers: { origin: 'https://evil.example' } })
    assert.equal(other.status, 200)
    assert.equal(other.headers['access-control-allow-origin'], undefined)
    assert.equal(other.headers['access-control-allow-credentials'], undefined)
    const errorToo = await request(api, 'GET', '/boom', { headers: { origin: ORIGIN } })
    assert.equal(errorToo.headers['access-control-allow-origin'], ORIGIN, 'error answers carry CORS headers too')
    const preflight = await request(api, 'OPTIONS', '/users/1', {
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    })
    assert.equal(preflight.status, 204)
    assert.equal(preflight.headers['access-control-allow-origin'], ORIGIN)
    assert.equal(preflight.headers['access-control-allow-methods'], 'POST, OPTIONS')
    assert.equal(preflight.headers['access-control-allow-headers'], 'content-type')
    const refused = await request(api, 'OPTIONS', '/users/1', {
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    })
    assert.equal(refused.headers['access-control-allow-origin'], undefined)
    assert.equal(refused.headers['access-control-allow-methods'], undefined)
    const nowhere = await request(api, 'OPTIONS', '/nothing', {
      headers: { origin: ORIGIN, 'access-control-request-method': 'GET' },
    })
    assert.equal(nowhere.status, 404)
  })

  test('routes: conflicts are refused, shared routes are refcounted, a leaving worker takes its routes', async (t) => {
    const other = await RawClient.connect(t, engine.bridgeUrl)
    other.send({
      type: 'registertrigger',
      id: 'conflict',
      trigger_type: 'api',
      function_path: 'api.other',
      config: { api_path: '/admin', http_method: 'GET' },
    })
    const conflict = await other.next((f) => f.type === 'error' && f.ref === 'conflict')
    assert.equal(conflict.code, 'trigger_conflict')
    assert.match(conflict.message, /GET \/admin is already bound to function api\.admin/)
    other.send({
      type: 'registertrigger',
      id: 'overlap',
      trigger_type: 'api',
      function_path: 'api.echo',
      config: { api_path: '/files/:other', http_method: 'GET' },
    })
    assert.equal((await other.next((f) => f.type === 'error' && f.ref === 'overlap')).code, 'trigger_conflict')
    other.send({
      type: 'registertrigger',
      id: 'invalid',
      trigger_type: 'api',
      function_path: 'api.echo',
      config: { api_path: '/a/*', http_method: 'FETCH' },
    })
    const invalid = await other.next((f) => f.type === 'error' && f.ref === 'invalid')
    assert.equal(invalid.code, 'invalid_trigger')
    assert.match(invalid.message, /http_method "FETCH" is not one of GET, POST/)

    // Two workers serve one function behind one route; the route lives while either does.
    const a = await RawClient.connect(t, engine.bridgeUrl)
    const b = await RawClient.connect(t, engine.bridgeUrl)
    a.register('api.shared', () => 'from a')
    b.register('api.shared', () => 'from b')
    await route(api, a, 'shared-a', 'GET', '/shared', 'api.shared')
    await route(api, b, 'shared-b', 'GET', '/shared', 'api.shared')
    a.ws.terminate()
    await eventually(async () => (await request(api, 'GET', '/shared')).json === 'from b')
    b.ws.terminate()
    await eventually(async () => (await request(api, 'GET', '/shared')).status === 404)
    assert.equal((await request(api, 'GET', '/admin')).status, 200)
  })

  test('R19: sockets that never finish their headers are closed within 10 s', async () => {
    await eventually(() => slowSockets.every((s) => s.closed !== undefined), 11_000, 100)
    for (const s of slowSockets)
      assert.ok((s.closed as number) - s.opened < 10_000, `closed after ${(s.closed as number) - s.opened} ms`)
    assert.equal((await request(api, 'GET', '/admin')).status, 200)
  })
})

describe('api trigger with the default config', () => {
  test('no CORS headers; 100k-deep JSON is 400; keep-alive and no Nagle stalls', async (t) => {
    const engine = await startEngine(t)
    const worker = await RawClient.connect(t, engine.bridgeUrl)
    let called = 0
    worker.register('api.any', (data) => {
      called++
      return { ok: true, body: data.body }
    })
    await route(engine.apiUrl, worker, 'any', 'POST', '/any', 'api.any')
    const r = await request(engine.apiUrl, 'POST', '/any', { headers: { origin: 'https://app.example' }, body: '{}' })
    assert.equal(r.status, 200)
    assert.equal(r.headers['access-control-allow-origin'], undefined)
    assert.equal(r.headers.vary, undefined)
    const deep = await request(engine.apiUrl, 'POST', '/any', {
      body: `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
    })
    assert.equal(deep.status, 400)
    assert.equal(deep.json.error, 'json_too_deep')
    const deepObjects = await request(engine.apiUrl, 'POST', '/any', {
      body: `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
    })
    assert.equal(deepObjects.status, 400)
    assert.equal(called, 1)

    // Sequential requests on one keep-alive connection: a Nagle/delayed-ACK stall costs ~40 ms each.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    t.after(() => agent.destroy())
    const { hostname, port } = new URL(engine.apiUrl)
    const times: number[] = []
    for (let i = 0; i < 30; i++) {
      const started = performance.now()
      await new Promise<void>((resolve, reject) => {
        const req = http.request({ host: hostname, port, method: 'POST', path: '/any', agent }, (res) => {
          res.resume()
          res.on('end', () => resolve())
        })
        req.on('error', reject)
        req.end('{"n":1}')
      })
      times.push(performance.now() - started)
    }
    times.sort((x, y) => x - y)
    assert.ok(times[15] < 25, `median ${times[15].toFixed(1)} ms`)
  })

  test('R1: a worker killed mid-request gives 503 within 1 s, and its route goes away', async (t) => {
    const engine = await startEngine(t)
    const proc = startWorker(t, join(repoRoot, 'packages/engine/test/fixtures/api-hang-worker.mjs'), {
      III_BRIDGE_URL: engine.bridgeUrl,
    })
    await proc.waitFor('ready')
    await eventually(async () => (await request(engine.apiUrl, 'OPTIONS', '/hang')).status === 204)
    const pending = request(engine.apiUrl, 'GET', '/hang')
    await proc.waitFor('called')
    const killedAt = Date.now()
    await proc.kill()
    const r = await pending
    const elapsed = Date.now() - killedAt
    assert.equal(r.status, 503)
    assert.equal(r.json.error, 'invocation_stopped')
    assert.equal(r.headers['retry-after'], '1')
    assert.ok(elapsed < 1000, `503 after ${elapsed} ms`)
    await eventually(async () => (await request(engine.apiUrl, 'GET', '/hang')).status === 404)
  })

  test('SIGTERM lets a request in flight finish, then the engine exits 0 and refuses connections', async (t) => {
    const engine = await startEngine(t)
    const worker = await RawClient.connect(t, engine.bridgeUrl)
    let called = false
    worker.register('api.slow', async () => {
      called = true
      await new Promise((r) => setTimeout(r, 400))
      return { done: true }
    })
    await route(engine.apiUrl, worker, 'slow', 'GET', '/slow', 'api.slow')
    const pending = request(engine.apiUrl, 'GET', '/slow')
    await eventually(() => called)
    const code = engine.stop()
    const r = await pending
    assert.equal(r.status, 200)
    assert.deepEqual(r.json, { done: true })
    assert.equal(r.headers.connection, 'close')
    assert.equal(await code, 0)
    await assert.rejects(request(engine.apiUrl, 'GET', '/slow'), { code: 'ECONNREFUSED' })
  })

  test('a taken port stops the engine with one clear sentence', async (t) => {
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    t.after(() => blocker.close())
    const port = (blocker.address() as net.AddressInfo).port
    await assert.rejects(startEngine(t, { ports: { api: port } }), (err: Error) => {
      assert.match(err.message, new RegExp(`port ${port} \\(api\\) is already in use on 127\\.0\\.0\\.1`))
      return true
    })
  })
})

describe('api routes under churn', () => {
  test('routes removed and added again in any order keep answering right (empty slots, compaction)', async (t) => {
    const engine = await startEngine(t)
    const watcher = await RawClient.connect(t, engine.bridgeUrl)
    const routeCount = async () =>
      (await watcher.call('engine.triggers.list', {})).result.triggers.filter((x: any) => x.trigger_type === 'api')
        .length
    // 100 workers with 2 routes each leave at once: more empty slots than live ones, so the
    // router is rebuilt; then the same patterns come back under other parameter names.
    const workers = await Promise.all(Array.from({ length: 100 }, () => RawClient.connect(t, engine.bridgeUrl)))
    for (const [i, w] of workers.entries()) {
      w.register(`f${i}`, () => ({ status: 200, body: { from: i } }))
      w.send({
        type: 'registertrigger',
        id: `a${i}`,
        trigger_type: 'api',
        function_path: `f${i}`,
        config: { api_path: `/r${i}/:id`, http_method: 'GET' },
      })
      w.send({
        type: 'registertrigger',
        id: `b${i}`,
        trigger_type: 'api',
        function_path: `f${i}`,
        config: { api_path: `/s${i}`, http_method: 'POST' },
      })
    }
    const keeper = await RawClient.connect(t, engine.bridgeUrl)
    keeper.register('keep', () => ({ status: 200, body: 'kept' }))
    keeper.send({
      type: 'registertrigger',
      id: 'k',
      trigger_type: 'api',
      function_path: 'keep',
      config: { api_path: '/keep/:x', http_method: 'GET' },
    })
    await eventually(async () => (await routeCount()) === 201)
    assert.equal((await fetch(`${engine.apiUrl}/r7/x`)).status, 200)
    for (const w of workers) w.close()
    await eventually(async () => (await routeCount()) === 1)
    assert.equal((await fetch(`${engine.apiUrl}/r7/x`)).status, 404)
    assert.equal(await (await fetch(`${engine.apiUrl}/keep/1`)).json(), 'kept')
    const back = await RawClient.connect(t, engine.bridgeUrl)
    back.register('again', (d: any) => ({ status: 200, body: d.path_params }))
    back.send({
      type: 'registertrigger',
      id: 'c',
      trigger_type: 'api',
      function_path: 'again',
      config: { api_path: '/r7/:other', http_method: 'GET' },
    })
    back.send({
      type: 'registertrigger',
      id: 'd',
      trigger_type: 'api',
      function_path: 'again',
      config: { api_path: '/s8', http_method: 'POST' },
    })
    await eventually(async () => (await fetch(`${engine.apiUrl}/r7/z`)).status === 200)
    assert.deepEqual(await (await fetch(`${engine.apiUrl}/r7/z`)).json(), { other: 'z' })
    assert.equal((await fetch(`${engine.apiUrl}/s8`, { method: 'POST' })).status, 200)
    assert.equal((await fetch(`${engine.apiUrl}/s9`, { method: 'POST' })).status, 404)
    assert.equal(await (await fetch(`${engine.apiUrl}/keep/2`)).json(), 'kept')
  })
})
