// The console (`iii --console-port 0`) in real headless Chromium: the page lists the connected
// workers and functions, runs a function from its invoke form through POST /api/invoke, and
// shows built-ins this engine lacks as "not available"; the Traces page follows a request across
// a Node and a Python worker. Against the todos example: the HTTP runner, the request's trace,
// the flow graph derived from the triggers, and the state and stream browsers seeing changes
// live. The JSON endpoints answer bad input with coded JSON errors.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { repoRoot, startEngine, startWorker } from '@iii-dev/testkit'
import { chromium } from 'playwright-core'
import { startMotia } from '../../motia/test/helpers.ts'
import { RawBridge } from './fixtures/streams-helpers.ts'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
// III_CONSOLE_SHOTS keeps the screenshots somewhere to look at (docs/img has copies of them).
const shots = process.env.III_CONSOLE_SHOTS ?? mkdtempSync(join(tmpdir(), 'iii-console-shots-'))
const fixtures = join(repoRoot, 'packages/engine/test/fixtures')

async function consoleUrl(output: () => string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const m = /console\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output())
    if (m) return m[1]
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`the engine printed no console address:\n${output()}`)
}

async function post(url: string, body: string) {
  const res = await fetch(`${url}/api/invoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  })
  return { status: res.status, body: (await res.json()) as any }
}

test('the console lists workers and functions and invokes a function from the browser', async (t) => {
  assert.ok(
    existsSync(CHROMIUM),
    `Chromium is not installed at ${CHROMIUM}: run "apt-get install -y chromium" or set CHROMIUM_PATH`,
  )
  const engine = await startEngine(t, { args: ['--console-port', '0'] })
  const url = await consoleUrl(() => engine.output())

  const bridge = await RawBridge.connect(engine.bridgeUrl, t)
  await bridge.call('engine.workers.register', { runtime: 'node', version: '20.0.0', name: 'console-test' })
  bridge.registerFunction('demo.echo', (data: any) => ({ echoed: data.word }))
  await bridge.ready('demo.echo')

  // The JSON endpoint: real results and coded errors.
  const listed = await post(url, JSON.stringify({ function_path: 'engine.functions.list', data: {} }))
  assert.equal(listed.status, 200)
  assert.ok(listed.body.result.functions.some((f: any) => f.function_path === 'demo.echo'))
  assert.deepEqual(await post(url, '{nope'), {
    status: 400,
    body: { error: { code: 'invalid_json', message: 'the request body is not JSON' } },
  })
  const missing = await post(url, JSON.stringify({ function_path: 'no.such.fn' }))
  assert.equal(missing.status, 404)
  assert.equal(missing.body.error.code, 'function_not_found')
  const noPath = await post(url, JSON.stringify({ data: {} }))
  assert.equal(noPath.status, 400)
  assert.equal(noPath.body.error.code, 'invalid_request')

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  t.after(() => browser.close())
  const page = await browser.newPage()
  await page.goto(url)

  // Workers page: the registered worker with its runtime.
  const row = page.locator('#workers tr', { hasText: 'console-test' })
  await row.waitFor()
  assert.equal(await row.locator('.runtime').textContent(), 'node')
  await page.screenshot({ path: join(shots, 'workers.png') })

  // Functions page: invoke demo.echo with an edited input, by the explicit button.
  await page.click('nav button[data-page="functions"]')
  const fn = page.locator('tr[data-function="demo.echo"]')
  await fn.locator('summary').click()
  await fn.locator('textarea.input').fill('{"word": "hello"}')
  await fn.locator('button.invoke').click()
  await page.waitForFunction(() =>
    document.querySelector('tr[data-function="demo.echo"] pre.output')?.textContent?.includes('echoed'),
  )
  assert.deepEqual(JSON.parse((await fn.locator('pre.output').textContent()) ?? ''), { echoed: 'hello' })
  await page.screenshot({ path: join(shots, 'functions.png') })

  // Dead letters page: a delivery that failed its only attempt shows up; Redrive (an explicit
  // button) delivers it again, now to a handler that succeeds, and the letter is gone.
  let healthy = false
  const delivered: unknown[] = []
  bridge.registerFunction('demo.fails', (data: any) => {
    if (!healthy) throw new Error('not yet')
    delivered.push(data)
    return null
  })
  bridge.registerTrigger('t-fails', 'event', 'demo.fails', { topic: 'demo.topic', max_attempts: 1 })
  await bridge.ready('demo.fails')
  await bridge.call('emit', { topic: 'demo.topic', data: { n: 1 } })
  for (let i = 0; i < 200; i++) {
    if ((await bridge.call('events.deadLetters.list', {})).items.length > 0) break
    await new Promise((r) => setTimeout(r, 50))
  }
  await page.click('nav button[data-page="deadletters"]')
  const letter = page.locator('#dead-letters tr', { hasText: 'demo.topic' })
  await letter.waitFor()
  assert.match((await letter.textContent()) ?? '', /not yet/)
  await page.screenshot({ path: join(shots, 'dead-letters.png') })
  healthy = true
  await letter.locator('button.redrive').click()
  await page.locator('#no-dead-letters').waitFor()
  for (let i = 0; i < 200 && delivered.length === 0; i++) await new Promise((r) => setTimeout(r, 50))
  assert.deepEqual(delivered, [{ n: 1 }])

  // Logs page: either the log lines (with the observability built-ins) or a clear
  // "not available" (function_not_found) instead of a broken page.
  await page.click('nav button[data-page="logs"]')
  await page.locator('#log-lines, [data-error="function_not_found"]').first().waitFor()
  const err = await page.locator('#log-lines [data-error]').count()
  if (err > 0) assert.match((await page.locator('#log-lines').textContent()) ?? '', /not available/)
})

test('the Traces page follows a request across a Node and a Python worker as a waterfall, with its logs', async (t) => {
  assert.ok(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}: run "apt-get install -y chromium"`)
  // The console turns tracing on (docs/observability.md).
  const engine = await startEngine(t, { args: ['--console-port', '0'] })
  const url = await consoleUrl(() => engine.output())
  const env = { III_BRIDGE_URL: engine.bridgeUrl }
  await startWorker(t, join(fixtures, 'trace_py_worker.py'), env).waitFor('trace python worker ready')
  await startWorker(t, join(fixtures, 'trace-node-worker.mjs'), env).waitFor('trace node worker ready')
  let res: Response | undefined
  for (let i = 0; i < 100 && (res === undefined || res.status === 404); i++) {
    res = await fetch(`${engine.apiUrl}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ item: 'tea' }),
    })
    if (res.status === 404) await new Promise((r) => setTimeout(r, 50))
  }
  assert.equal(res?.status, 201)

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  t.after(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1200, height: 700 } })
  await page.goto(url)
  await page.click('nav button[data-page="traces"]')
  const row = page.locator('#traces tr', { hasText: 'orders.create' })
  await row.waitFor()
  assert.match((await row.textContent()) ?? '', /api/)
  await row.locator('a.open').click()
  // The retried delivery ends a moment after the request: reopen until both attempts are in.
  const waterfall = page.locator('#waterfall')
  await waterfall.waitFor()
  for (let i = 0; i < 50 && (await page.locator('#waterfall tr', { hasText: 'orders.notify' }).count()) < 2; i++) {
    await new Promise((r) => setTimeout(r, 200))
    await page.click('nav button[data-page="traces"]')
    await page.locator('#traces tr', { hasText: 'orders.create' }).locator('a.open').click()
    await waterfall.waitFor()
  }
  const span = (name: string) => page.locator('#waterfall tr', { hasText: name })
  assert.equal(await span('orders.create').locator('.runtime').textContent(), 'node')
  assert.equal(await span('orders.create').locator('.kind').textContent(), 'server')
  assert.equal(await span('py.price').locator('.runtime').textContent(), 'python')
  const notify = span('orders.notify')
  assert.equal(await notify.count(), 2, 'both delivery attempts are in the waterfall')
  assert.match(
    (await notify.nth(0).textContent()) + (await notify.nth(1).textContent()),
    /error.*attempt 2|attempt 2.*error/s,
  )
  await page.screenshot({ path: join(shots, 'trace.png') })

  // From the trace to its logs: the log line the Node handler wrote, filtered by the trace id.
  const traceId = (await page.locator('#trace-id').textContent()) as string
  assert.match(traceId, /^[0-9a-f]{32}$/)
  await page.click('#trace-logs')
  assert.equal(await page.locator('#trace-filter').inputValue(), traceId)
  await page.waitForFunction(() => document.querySelector('#log-lines')?.textContent?.includes('order priced'))
  assert.doesNotMatch((await page.locator('#log-lines').textContent()) ?? '', /hunter2/)
})

test('against the todos app: the HTTP runner, its trace, the flow graph, and state and stream items changing live', async (t) => {
  assert.ok(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}: run "apt-get install -y chromium"`)
  const engine = await startEngine(t, { args: ['--console-port', '0'] })
  const url = await consoleUrl(() => engine.output())
  const motia = startMotia(t, ['start', join(repoRoot, 'examples/todos')], {
    III_BRIDGE_URL: engine.bridgeUrl,
    TODOS_STREAMS_URL: engine.streamsUrl,
  })
  await motia.waitFor('[motia] ready')

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  t.after(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1300, height: 720 } })
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(url)

  // The app's worker and its steps.
  await page.locator('#workers tr[data-worker]', { hasText: 'node' }).first().waitFor()
  await page.click('nav button[data-page="functions"]')
  await page.locator('tr[data-function="steps.CreateTodo:trigger:0"]').waitFor()
  assert.match(
    (await page.locator('tr[data-function="steps.CreateTodo:trigger:0"] .triggers').textContent()) ?? '',
    /api .*"\/todos"/,
  )

  // The HTTP runner: pick the route, the body is pre-filled from the step's schema, Send.
  await page.click('nav button[data-page="http"]')
  await page.locator('#routes tr[data-route="POST /todos"] a.use').click()
  assert.equal(await page.locator('#http-method').inputValue(), 'POST')
  assert.equal(await page.locator('#http-path').inputValue(), '/todos')
  assert.deepEqual(JSON.parse(await page.locator('#http-body').inputValue()), { title: '' })
  await page.locator('#http-body').fill('{"title": "write the docs"}')
  await page.click('#http-send')
  await page.locator('#http-status').waitFor()
  assert.equal(await page.locator('#http-status').textContent(), '201')
  const created = JSON.parse((await page.locator('#http-response-body').textContent()) ?? '')
  assert.equal(created.title, 'write the docs')
  assert.match((await page.locator('#http-response-headers').textContent()) ?? '', /x-response-time: /)
  await page.screenshot({ path: join(shots, 'http.png') })

  // Its trace: the api step, then the event chain it started, in the same waterfall.
  const traceId = await page.locator('#http-trace').getAttribute('data-trace')
  assert.match(traceId ?? '', /^[0-9a-f]{32}$/)
  await page.click('#http-trace')
  const span = (name: string) => page.locator('#waterfall tr', { hasText: name })
  await page.locator('#waterfall').waitFor()
  for (let i = 0; i < 50 && (await span('steps.TodoIndexed').count()) === 0; i++) {
    await new Promise((r) => setTimeout(r, 200))
    await page.click('nav button[data-page="traces"]')
    await page.locator(`#traces tr[data-trace="${traceId}"] a.open`).click()
    await page.locator('#waterfall').waitFor()
  }
  assert.equal(await page.locator('#trace-id').textContent(), traceId)
  assert.equal(await span('steps.CreateTodo').locator('.kind').textContent(), 'server')
  assert.equal(await span('steps.IndexTodo').locator('.kind').textContent(), 'consumer')
  assert.equal(await span('steps.TodoIndexed').locator('.runtime').textContent(), 'node')

  // The flow graph comes from the triggers and the steps' emits: route -> step -> topic -> step.
  await page.click('nav button[data-page="flow"]')
  await page.locator('#flow').waitFor()
  const edge = (from: string, to: string) => page.locator(`#flow path.edge[data-from="${from}"][data-to="${to}"]`)
  assert.equal(await edge('api:POST /todos', 'fn:steps.CreateTodo:trigger:0').count(), 1)
  assert.equal(await edge('fn:steps.CreateTodo:trigger:0', 'topic:todo.created').count(), 1)
  assert.equal(await edge('topic:todo.created', 'fn:steps.IndexTodo:trigger:0').count(), 1)
  assert.equal(await edge('fn:steps.IndexTodo:trigger:0', 'topic:todo.indexed').count(), 1)
  assert.equal(await edge('cron:* * * * *', 'fn:steps.SweepTodos:trigger:0').count(), 1)
  const completed = page.locator('#flow g.node[data-node="fn:steps.TodoCompleted:trigger:0"]')
  assert.equal(await completed.locator('text').textContent(), 'TodoCompleted (if)')
  assert.equal(await page.locator('#flow g.node[data-node$=":condition"]').count(), 0, 'conditions are not steps')
  await page.screenshot({ path: join(shots, 'flow.png') })

  // The stream browser: the new todo is in todos/inbox, and a change made elsewhere shows live.
  await page.click('nav button[data-page="streams"]')
  await page.locator('#stream-names [data-stream="todos"] a').click()
  await page.locator('#stream-groups [data-group="inbox"] a').click()
  const item = page.locator(`#stream-items tr[data-item="${created.id}"]`)
  await item.waitFor()
  assert.match((await item.textContent()) ?? '', /write the docs/)
  const patched = await fetch(`${engine.apiUrl}/todos/${created.id}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'write better docs' }),
  })
  assert.equal(patched.status, 200)
  await page.waitForFunction(
    (id) => {
      const row = document.querySelector(`#stream-items tr[data-item="${id}"]`)
      return row?.classList.contains('changed') && row.textContent?.includes('write better docs')
    },
    created.id,
    { timeout: 5000 },
  )
  await page.screenshot({ path: join(shots, 'streams.png') })

  // The state browser: the app's counters, and an edit that runs only on its button.
  await page.click('nav button[data-page="state"]')
  await page.locator('#state-groups [data-group="todos-stats"] a').click()
  await page.locator('#state-items tr[data-item]').first().waitFor()
  assert.match((await page.locator('#state-items').textContent()) ?? '', /created/)
  await page.locator('details summary', { hasText: 'edit an item' }).click()
  await page.locator('#state-item').fill('note')
  await page.locator('#state-value').fill('{"id": "note", "text": "from the console"}')
  await page.click('#state-set')
  await page.locator('#state-items tr[data-item="note"]').waitFor()
  const stored = await post(
    url,
    JSON.stringify({ function_path: 'state.get', data: { group_id: 'todos-stats', item_id: 'note' } }),
  )
  assert.deepEqual(stored.body.result, { id: 'note', text: 'from the console' })
  await page.screenshot({ path: join(shots, 'state.png') })
  assert.deepEqual(errors, [], 'no script errors on the page')
})

test('POST /api/http answers bad requests with coded JSON errors and forwards good ones with a traceparent', async (t) => {
  const engine = await startEngine(t, { args: ['--console-port', '0'] })
  const url = await consoleUrl(() => engine.output())
  const bridge = await RawBridge.connect(engine.bridgeUrl, t)
  const seen: any[] = []
  bridge.registerFunction('demo.hello', (req: any) => {
    seen.push(req)
    return { status_code: 200, body: { hi: req.body?.name ?? null } }
  })
  bridge.registerTrigger('t-hello', 'api', 'demo.hello', { api_path: '/hello', http_method: 'POST' })
  await bridge.ready('demo.hello')
  const run = async (body: string) => {
    const res = await fetch(`${url}/api/http`, { method: 'POST', body })
    return { status: res.status, body: (await res.json()) as any }
  }
  assert.deepEqual(await run('[1'), {
    status: 400,
    body: { error: { code: 'invalid_json', message: 'the request body is not JSON' } },
  })
  const bad = await run(JSON.stringify({ method: 'BREW', path: '/hello' }))
  assert.equal(bad.status, 400)
  assert.equal(bad.body.error.code, 'invalid_request')
  assert.match(bad.body.error.message, /method must be one of GET, POST/)
  assert.match((await run(JSON.stringify({ method: 'GET', path: 'hello' }))).body.error.message, /starting with \//)
  assert.match((await run(JSON.stringify({ method: 'GET', path: '/', body: 'x' }))).body.error.message, /no body/)
  assert.match(
    (await run(JSON.stringify({ method: 'POST', path: '/', headers: { a: 1 } }))).body.error.message,
    /header a must be a string/,
  )
  assert.equal((await fetch(`${url}/api/http`)).status, 405)

  let ok: { status: number; body: any } | undefined
  for (let i = 0; i < 50 && ok?.body.status !== 200; i++) {
    ok = await run(JSON.stringify({ method: 'post', path: '/hello', body: { name: 'ada' }, headers: { host: 'evil' } }))
    if (ok.body.status !== 200) await new Promise((r) => setTimeout(r, 50))
  }
  assert.equal(ok?.status, 200)
  assert.equal(ok?.body.status, 200)
  assert.deepEqual(JSON.parse(ok?.body.body), { hi: 'ada' })
  assert.match(ok?.body.trace_id, /^[0-9a-f]{32}$/)
  assert.equal(seen.at(-1).headers.traceparent.split('-')[1], ok?.body.trace_id, 'the handler saw the traceparent')
  assert.notEqual(seen.at(-1).headers.host, 'evil', 'hop-by-hop headers are not passed on')
})
