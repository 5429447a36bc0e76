/**
 * The todos example, run as a user would: the engine, `motia start examples/todos`, curl-like
 * HTTP calls, a Node stream client following the list, and the page in headless Chromium.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { StreamClient } from '@iii-dev/stream-client'
import { eventually, startEngine } from '@iii-dev/testkit'
import { chromium } from 'playwright-core'
import WebSocket from 'ws'
import { http, startMotia } from '../../../packages/motia/test/helpers.ts'

const app = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

test('todos: API steps, the event chain, the cron sweep and the live stream', async (t) => {
  const engine = await startEngine(t)
  const motia = startMotia(t, ['start', app], {
    III_BRIDGE_URL: engine.bridgeUrl,
    TODOS_STREAMS_URL: engine.streamsUrl,
    TODOS_SWEEP_CRON: '* * * * * *',
    TODOS_SWEEP_AFTER_MS: '1500',
  })
  await motia.waitFor('[motia] ready')
  const api = engine.apiUrl

  const client = new StreamClient(engine.streamsUrl, { WebSocket: WebSocket as never })
  t.after(() => client.close())
  const live = client.subscribeGroup<{ id: string; title: string; done: boolean }>('todos', 'inbox')

  const created = await http(api, 'POST', '/todos', { title: '  buy milk ' })
  assert.equal(created.status, 201)
  assert.equal(created.body.title, 'buy milk')
  assert.ok(created.headers.get('x-response-time'), 'the timing middleware ran')
  const id = created.body.id
  await eventually(() => live.value.some((x) => x.id === id))

  assert.equal((await http(api, 'POST', '/todos', { title: '' })).status, 400)
  assert.equal((await http(api, 'PATCH', `/todos/${id}`, {})).status, 400)
  assert.equal((await http(api, 'PATCH', '/todos/nope', { done: true })).status, 404)
  assert.equal((await http(api, 'GET', '/todos?done=maybe')).status, 400)

  const list = await http(api, 'GET', '/todos?done=false')
  assert.deepEqual(
    list.body.map((x: { id: string }) => x.id),
    [id],
  )

  // the chain todo.created -> IndexTodo -> todo.indexed -> TodoIndexed
  await eventually(async () => {
    const s = (await http(api, 'GET', '/stats')).body
    return s.created === 1 && s.indexed === 1
  })

  // the condition lets only "became done" through
  await http(api, 'PATCH', `/todos/${id}`, { title: 'buy oat milk' })
  const done = await http(api, 'PATCH', `/todos/${id}`, { done: true })
  assert.equal(done.status, 200)
  await eventually(() => live.value.find((x) => x.id === id)?.done === true)
  await eventually(async () => (await http(api, 'GET', '/stats')).body.completed === 1)

  // the cron step sweeps done todos (here: after 1.5 s, checked every second)
  await eventually(() => !live.value.some((x) => x.id === id), 6000)
  assert.equal((await http(api, 'GET', '/stats')).body.swept, 1)
})

test('todos: the page shows the list live in a browser and adds todos', async (t) => {
  assert.ok(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM} (set CHROMIUM_PATH)`)
  const engine = await startEngine(t)
  const motia = startMotia(t, ['start', app], {
    III_BRIDGE_URL: engine.bridgeUrl,
    TODOS_STREAMS_URL: engine.streamsUrl,
  })
  await motia.waitFor('[motia] ready')
  const api = engine.apiUrl

  const html = await fetch(`${api}/`)
  assert.equal(html.status, 200)
  assert.match(html.headers.get('content-type') ?? '', /^text\/html/)

  const userDataDir = mkdtempSync(join(tmpdir(), 'motia-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  })
  t.after(async () => {
    await context.close()
    rmSync(userDataDir, { recursive: true, force: true })
  })
  const tab = await context.newPage()
  const problems: string[] = []
  tab.on('pageerror', (err) => problems.push(String(err)))
  await tab.goto(`${api}/`)
  await tab.waitForFunction(() => document.getElementById('status')?.textContent === 'live: open')

  // a todo created elsewhere appears without a reload
  await http(api, 'POST', '/todos', { title: 'from curl' })
  await tab.waitForFunction(() => document.getElementById('list')?.textContent?.includes('from curl'))

  // the form adds one; ticking it marks it done everywhere
  await tab.fill('input[name=title]', 'from the page')
  await tab.click('form button')
  await tab.waitForFunction(() => document.getElementById('list')?.textContent?.includes('from the page'))
  await tab.click('li:has-text("from the page") input[type=checkbox]')
  await eventually(async () => {
    const todos = (await http(api, 'GET', '/todos?done=true')).body
    return todos.length === 1 && todos[0].title === 'from the page'
  })
  await tab.waitForFunction(() => document.querySelector('li.done span')?.textContent === 'from the page')
  assert.deepEqual(problems, [])
})
