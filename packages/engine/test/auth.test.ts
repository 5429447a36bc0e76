/**
 * Worker authentication and authorization (docs/security.md), through a real engine process,
 * raw sockets and both SDKs: the upgrade check, identities' policies, the hijack of another
 * identity's function, built-ins under the same policy, the auth function failing closed.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { connect } from 'node:net'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { eventually, repoRoot, startEngine, startWorker } from '@iii-dev/testkit'
import { NO_ANSWER, RawClient, sleep } from './raw.ts'

const fixtures = join(repoRoot, 'packages/engine/test/fixtures')
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } })

const ORDERS = 'orders-secret-1'
const INTRUDER = 'intruder-secret-2'
const GATE = 'gate-secret-3'

const config = `
modules:
  streams:
    auth_function: streams.auth
bridge:
  auth:
    identities:
      orders:
        tokens: [{ sha256: ${sha256(ORDERS)} }]
        share: ['shared.*']
      intruder:
        tokens: [{ env: INTRUDER_TOKEN }]
        invoke: ['orders.*', 'shared.*', 'intruder.*', 'logger.log']
        share: ['shared.*']
      boxed:
        tokens: [{ sha256: ${sha256('boxed-secret')} }]
        namespace: 'boxed.'
        use_trigger_types: ['event']
        own_trigger_types: ['boxed-*']
      gate:
        tokens: [{ sha256: ${sha256(GATE)} }]
    function: { path: auth.check, identity: gate }
`

interface RawAnswer {
  status: number
  text: string
  /** The server closed the TCP connection after answering. */
  closed: boolean
}

/** A WebSocket upgrade request written by hand: what comes back, and whether the socket closed. */
function rawUpgrade(url: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    let text = ''
    let timer: NodeJS.Timeout | undefined
    // Once the answer's head is in, the server has a second to close the socket (a 101 does not).
    const settle = () => {
      socket.destroy()
      resolve({ status: Number(text.split(' ')[1]), text, closed: false })
    }
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => {
      text += d
      if (timer === undefined && text.includes('\r\n\r\n')) timer = setTimeout(settle, 1000)
    })
    socket.on('error', reject)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({ status: Number(text.split(' ')[1]), text, closed: true })
    })
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`)
    socket.write(
      `GET / HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra.join('')}\r\n`,
    )
  })
}

async function startAuthEngine(t: Parameters<typeof startEngine>[0]) {
  return startEngine(t, { config, env: { INTRUDER_TOKEN: INTRUDER } })
}

describe('worker authentication at the upgrade', () => {
  test('no token or a wrong token gets 401 and no socket; a good one gets a worker id', async (t) => {
    const engine = await startAuthEngine(t)
    for (const headers of [{}, { Authorization: 'Bearer not-the-token' }, { Authorization: `Basic ${ORDERS}` }]) {
      const answer = await rawUpgrade(engine.bridgeUrl, headers)
      assert.equal(answer.status, 401, answer.text)
      assert.equal(answer.closed, true)
      assert.doesNotMatch(answer.text, /101 Switching/)
      assert.match(answer.text, /\{"error":"unauthorized"\}/)
    }
    const ok = await rawUpgrade(engine.bridgeUrl, { Authorization: `Bearer ${ORDERS}` })
    assert.match(ok.text, /^HTTP\/1\.1 101 /)
    const worker = await RawClient.connect(t, engine.bridgeUrl, bearer(INTRUDER))
    assert.match(worker.workerId, /^w-\d+$/)
    const lister = await RawClient.connect(t, engine.bridgeUrl, bearer(ORDERS))
    const identities = async () =>
      (await lister.call('engine.workers.list', {})).result.workers.map((w: any) => w.identity).sort()
    // The hand-made connection above is gone: the two clients are left.
    await eventually(async () => JSON.stringify(await identities()) === '["intruder","orders"]')
    // Tokens are never logged; refusals are, once each.
    assert.doesNotMatch(engine.output(), new RegExp(`${ORDERS}|${INTRUDER}|not-the-token`))
    assert.equal(engine.output().match(/audit: bridge upgrade from .* refused/g)?.length, 3)
  })

  test('both SDKs connect with a token, given as an option or as III_TOKEN', async (t) => {
    const engine = await startAuthEngine(t)
    const url = { III_BRIDGE_URL: engine.bridgeUrl }
    const workers = [
      startWorker(t, join(fixtures, 'auth-node-worker.ts'), { ...url, AUTH_TOKEN: ORDERS, FN_PREFIX: 'orders.n1' }),
      startWorker(t, join(fixtures, 'auth-node-worker.ts'), { ...url, III_TOKEN: ORDERS, FN_PREFIX: 'orders.n2' }),
      startWorker(t, join(fixtures, 'auth_python_worker.py'), { ...url, AUTH_TOKEN: ORDERS, FN_PREFIX: 'orders.p1' }),
      startWorker(t, join(fixtures, 'auth_python_worker.py'), { ...url, III_TOKEN: ORDERS, FN_PREFIX: 'orders.p2' }),
    ]
    await Promise.all(
      workers.map((w, i) => w.waitFor(i < 2 ? 'node worker connected' : 'python worker connected', 20_000)),
    )
    const caller = await RawClient.connect(t, engine.bridgeUrl, bearer(INTRUDER))
    for (const [path, who] of [
      ['orders.n1.whoami', 'node'],
      ['orders.n2.whoami', 'node'],
      ['orders.p1.whoami', 'python'],
      ['orders.p2.whoami', 'python'],
    ]) {
      const answer = await eventually(async () => {
        const a = await caller.call(path, {})
        return a.error === undefined && a
      }, 10_000)
      assert.equal(answer.result, who)
    }
    for (const w of workers) assert.doesNotMatch(w.output(), new RegExp(ORDERS))
  })

  test('both SDKs fail fast on 401 with connection_failed naming the token, and do not retry', async (t) => {
    const engine = await startAuthEngine(t)
    const url = { III_BRIDGE_URL: engine.bridgeUrl }
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['auth-node-worker.ts', { AUTH_TOKEN: 'not-the-token' }, /HTTP 401: the token was not accepted/],
      ['auth-node-worker.ts', { III_TOKEN: '' }, /HTTP 401: no token was given/],
      ['auth_python_worker.py', { AUTH_TOKEN: 'not-the-token' }, /HTTP 401: the token was not accepted/],
      ['auth_python_worker.py', { III_TOKEN: '' }, /HTTP 401: no token was given/],
    ]
    const workers = cases.map(([file, env]) => startWorker(t, join(fixtures, file), { ...url, ...env }))
    for (const [i, w] of workers.entries()) {
      const runtime = cases[i][0].endsWith('.py') ? 'python' : 'node'
      await w.waitFor(`${runtime} worker failed: connection_failed`, 20_000)
      assert.match(w.output(), cases[i][2])
      assert.doesNotMatch(w.output(), /not-the-token/, 'the token is not logged')
    }
    // the refusal ended the attempts (with retries, 100 ms apart, there would be dozens)
    await sleep(1000)
    assert.equal(engine.output().match(/audit: bridge upgrade from .* refused/g)?.length, 4, 'one attempt each')
  })
})

describe('authorization per identity', () => {
  test('another identity cannot take over a function: register, condition, stream auth name', async (t) => {
    const engine = await startAuthEngine(t)
    const victim = await RawClient.connect(t, engine.bridgeUrl, bearer(ORDERS))
    const intruder = await RawClient.connect(t, engine.bridgeUrl, bearer(INTRUDER))
    const caller = await RawClient.connect(t, engine.bridgeUrl, bearer(ORDERS))
    victim.register('orders.create', (_d, frame) => ({ by: 'victim', auth: frame.data?.headers?.authorization }))
    victim.register('streams.auth', () => ({ context: 'victim' }))
    victim.send({
      type: 'registertrigger',
      id: 'orders-route',
      trigger_type: 'api',
      function_path: 'orders.create',
      config: { api_path: '/orders', http_method: 'POST' },
    })
    await eventually(async () => (await caller.call('orders.create', {})).result?.by === 'victim')

    let stolen = 0
    intruder.register('orders.create', () => {
      stolen++
      return { by: 'intruder' }
    })
    const refused = await intruder.next((f) => f.type === 'error')
    assert.equal(refused.code, 'forbidden')
    assert.match(refused.message, /orders\.create is served by identity orders/)
    intruder.register('streams.auth', () => {
      stolen++
      return { context: 'intruder' }
    })
    assert.equal((await intruder.next((f) => f.type === 'error' && f !== refused)).code, 'forbidden')
    intruder.send({ type: 'registercondition', function_path: 'orders.create', condition_function_path: 'intruder.no' })
    await eventually(() => intruder.frames.filter((f) => f.type === 'error').length === 3)
    const condition = intruder.frames.filter((f) => f.type === 'error')[2]
    assert.equal(condition.code, 'forbidden')
    assert.match(condition.message, /orders\.create is served by identity orders/)

    const results = await Promise.all(Array.from({ length: 20 }, () => caller.call('orders.create', {})))
    assert.deepEqual(new Set(results.map((r) => r.result.by)), new Set(['victim']))
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${engine.apiUrl}/orders`, {
        method: 'POST',
        headers: { authorization: 'Bearer end-user', 'content-type': 'application/json' },
        body: '{}',
      })
      assert.equal(res.status, 200)
      assert.equal(((await res.json()) as any).by, 'victim')
    }
    assert.equal(stolen, 0)
    const list = await caller.call('engine.functions.list', {})
    assert.equal(list.result.functions.find((f: any) => f.function_path === 'orders.create').workers, 1)
    assert.match(engine.output(), /audit: forbidden register "orders\.create" by identity "intruder"/)
    assert.match(engine.output(), /audit: forbidden registercondition "orders\.create" by identity "intruder"/)
  })

  test('paths both identities allow sharing are served by both, in turn', async (t) => {
    const engine = await startAuthEngine(t)
    const a = await RawClient.connect(t, engine.bridgeUrl, bearer(ORDERS))
    const b = await RawClient.connect(t, engine.bridgeUrl, bearer(INTRUDER))
    a.register('shared.work', () => 'a')
    await sleep(50)
    b.register('shared.work', () => 'b')
    await sleep(100)
    const results = await Promise.all(Array.from({ length: 10 }, () => a.call('shared.work', {})))
    assert.equal(results.filter((r) => r.result === 'a').length, 5)
    assert.equal(results.filter((r) => r.result === 'b').length, 5)
    assert.equal(b.frames.filter((f) => f.type === 'error').length, 0)
  })

  test('built-ins are under the same policy: state, engine.*, emit refused; coded, one audit line each', async (t) => {
    const engine = await startAuthEngine(t)
    const owner = await RawClient.connect(t, engine.bridgeUrl, bearer(ORDERS))
    const intruder = await RawClient.connect(t, engine.bridgeUrl, bearer(INTRUDER))
    const set = await owner.call('state.set', { group_id: 'orders', item_id: 'k', data: { secret: 1 } })
    assert.equal(set.error, undefined)
    for (const [path, data] of [
      ['state.get', { group_id: 'orders', item_id: 'k' }],
      ['state.set', { group_id: 'orders', item_id: 'k', data: 'overwritten' }],
      ['state.getGroup', { group_id: 'orders' }],
      ['engine.workers.list', {}],
      ['engine.functions.list', {}],
      ['emit', { topic: 't', data: {} }],
    ] as const) {
      const answer = await intruder.call(path, data)
      assert.equal(answer.error?.code, 'forbidden', `${path}: ${JSON.stringify(answer)}`)
      assert.match(answer.error.message, new RegExp(`identity intruder may not invoke ${path.replace('.', '\\.')}`))
    }
    assert.deepEqual((await owner.call('state.get', { group_id: 'orders', item_id: 'k' })).result, { secret: 1 })
    // What it may call still works, and engine.workers.register always does (it describes the caller).
    assert.equal((await intruder.call('logger.log', { level: 'info', message: 'hi' })).error, undefined)
    assert.equal((await intruder.call('engine.workers.register', { runtime: 'node' })).error, undefined)
    await eventually(
      () => (engine.output().match(/audit: forbidden invoke .* by identity "intruder"/g) ?? []).length === 6,
    )
  })

  test('namespace, trigger types used and owned, and triggers bound to functions one may not call', async (t) => {
    const engine = await startAuthEngine(t)
    const boxed = await RawClient.connect(t, engine.bridgeUrl, bearer('boxed-secret'))
    const intruder = await RawClient.connect(t, engine.bridgeUrl, bearer(INTRUDER))
    const errors = (c: RawClient) => c.frames.filter((f) => f.type === 'error')
    boxed.register('other.fn', () => 1)
    boxed.register('boxed.fn', () => 2)
    boxed.send({ type: 'registertrigger', id: 't1', trigger_type: 'api', function_path: 'boxed.fn', config: {} })
    boxed.send({
      type: 'registertrigger',
      id: 't2',
      trigger_type: 'event',
      function_path: 'boxed.fn',
      config: { topic: 'x' },
    })
    boxed.send({ type: 'registertriggertype', id: 'queue' })
    boxed.send({ type: 'registertriggertype', id: 'boxed-jobs' })
    intruder.send({
      type: 'registertrigger',
      id: 't3',
      trigger_type: 'api',
      function_path: 'engine.workers.list',
      config: { api_path: '/leak', http_method: 'GET' },
    })
    await eventually(() => errors(boxed).length >= 3 && errors(intruder).length >= 1)
    await sleep(100)
    const messages = errors(boxed).map((f) => `${f.code}: ${f.message}`)
    assert.deepEqual(messages, [
      'forbidden: function paths of identity boxed must start with "boxed."',
      'forbidden: identity boxed may not use trigger type api',
      'forbidden: identity boxed may not own trigger type queue',
    ])
    assert.equal(errors(intruder)[0].code, 'forbidden')
    assert.equal((await fetch(`${engine.apiUrl}/leak`)).status, 404)
    const types = await boxed.call('engine.trigger_types.list', {})
    assert.ok(types.result.trigger_types.some((x: any) => x.id === 'boxed-jobs'))
    const triggers = (await boxed.call('engine.triggers.list', {})).result.triggers.map((x: any) => x.id)
    assert.deepEqual(triggers, ['t2'])
  })
})

describe('the auth function', () => {
  test('decides for tokens no identity holds; says no, throws or is late (> 5 s): 401', async (t) => {
    const engine = await startAuthEngine(t)
    const gate = await RawClient.connect(t, engine.bridgeUrl, bearer(GATE))
    const seen: any[] = []
    gate.register('auth.check', (req) => {
      seen.push(req)
      const who = req.headers['x-user']
      if (who === 'guest') return { identity: 'guest', policy: { register: ['guest.*'], invoke: ['guest.*'] } }
      if (who === 'orders') return { identity: 'orders' }
      if (who === 'throw') throw new Error('no such user')
      if (who === 'slow') return NO_ANSWER
      return false
    })
    // Another identity may not serve the auth function, even with full rights.
    const intruder = await RawClient.connect(t, engine.bridgeUrl, bearer(INTRUDER))
    intruder.register('auth.check', () => ({ identity: 'orders' }))
    const refused = await intruder.next((f) => f.type === 'error')
    assert.equal(refused.code, 'forbidden')
    assert.match(refused.message, /only identity gate may serve it/)
    await sleep(50)

    const guest = await RawClient.connect(t, `${engine.bridgeUrl}/?tenant=7`, { headers: { 'x-user': 'guest' } })
    assert.equal(seen[0].query_params.tenant, '7')
    assert.equal(typeof seen[0].addr, 'string')
    assert.ok(seen[0].addr.length > 0)
    assert.equal((await guest.call('engine.workers.list', {})).error.code, 'forbidden')
    guest.register('orders.create', () => 1)
    assert.equal((await guest.next((f) => f.type === 'error')).code, 'forbidden')
    const asOrders = await RawClient.connect(t, engine.bridgeUrl, { headers: { 'x-user': 'orders' } })
    assert.equal((await asOrders.call('engine.workers.list', {})).error, undefined)

    for (const who of ['nobody', 'throw']) {
      const answer = await rawUpgrade(engine.bridgeUrl, { 'x-user': who })
      assert.equal(answer.status, 401, `${who}: ${answer.text}`)
      assert.equal(answer.closed, true)
    }
    const started = Date.now()
    const late = await rawUpgrade(engine.bridgeUrl, { 'x-user': 'slow' })
    const took = Date.now() - started
    assert.equal(late.status, 401)
    assert.ok(took >= 4500 && took < 7500, `refused after ${took} ms`)
    assert.match(engine.output(), /auth function auth\.check failed: .*no such user/)
  })

  test('with no worker serving the auth function, nobody without a token gets in', async (t) => {
    const engine = await startAuthEngine(t)
    const answer = await rawUpgrade(engine.bridgeUrl, { 'x-user': 'orders' })
    assert.equal(answer.status, 401)
    assert.match(engine.output(), /auth function auth\.check failed: function auth\.check is not registered/)
  })
})

describe('exposure and configuration', () => {
  test('a non-loopback host without auth refuses to start, unless --insecure or III_TOKEN', async (t) => {
    await assert.rejects(startEngine(t, { args: ['--host', '0.0.0.0'] }), (err: Error) => {
      assert.match(err.message, /exited with 1/)
      assert.match(err.message, /refusing to listen on 0\.0\.0\.0 without worker authentication, because any process/)
      return true
    })
    const insecure = await startEngine(t, { args: ['--host', '0.0.0.0', '--insecure'] })
    await RawClient.connect(t, insecure.bridgeUrl)
    const token = await startEngine(t, { args: ['--host', '0.0.0.0'], env: { III_TOKEN: 'the-one-token' } })
    assert.equal((await rawUpgrade(token.bridgeUrl)).status, 401)
    const full = await RawClient.connect(t, token.bridgeUrl, bearer('the-one-token'))
    assert.equal((await full.call('state.set', { group_id: 's', item_id: 'k', data: 1 })).error, undefined)
    assert.equal((await full.call('engine.workers.list', {})).result.workers[0].identity, 'III_TOKEN')
  })

  test('bad auth config stops the engine with one sentence naming the problem', async (t) => {
    const cases: Array<[string, RegExp]> = [
      ['bridge:\n  auth:\n    identitys: {}\n', /unknown key "identitys" at bridge\.auth/],
      [
        'bridge:\n  auth:\n    identities:\n      a:\n        tokens: [{ env: NOT_SET_ANYWHERE }]\n',
        /environment variable NOT_SET_ANYWHERE is not set/,
      ],
      [
        'bridge:\n  auth:\n    identities:\n      a:\n        tokens: [{ sha256: abc }]\n',
        /sha256 must be 64 hex digits/,
      ],
      ['bridge:\n  auth: {}\n', /bridge\.auth has no token/],
      ['bridge:\n  limits:\n    max_in_flight: 0\n', /bridge\.limits\.max_in_flight/],
    ]
    for (const [yaml, message] of cases) {
      await assert.rejects(startEngine(t, { config: yaml }), (err: Error) => {
        assert.match(err.message, message)
        return true
      })
    }
  })
})
