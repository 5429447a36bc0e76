/**
 * The published browser stream client `@motiadev/stream-client-browser` (an npm devDependency,
 * bundled for the page by esbuild as an app would) in real headless Chromium against our stream
 * socket through a real engine process: a group, an item and a custom event, with changes made
 * over the bridge as a worker would (issue 13).
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { eventually, startEngine } from '@iii-dev/testkit'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import { RawBridge } from './fixtures/streams-helpers.ts'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const page = `<!doctype html>
<meta charset="utf-8">
<ul id="todos"></ul><p id="item">(none)</p><ul id="events"></ul>
<script type="module">
  import { Stream } from '/client.js'
  const stream = new Stream(new URLSearchParams(location.search).get('ws'))
  const group = stream.subscribeGroup('todos', 'inbox')
  group.addChangeListener((items) => {
    const list = document.getElementById('todos')
    list.replaceChildren(...[...(items ?? [])].sort((a, b) => (a.id < b.id ? -1 : 1)).map((t) => {
      const li = document.createElement('li')
      li.textContent = t.id + ':' + t.title + (t.done ? ' (done)' : '')
      return li
    }))
  })
  group.onEvent('toast', (data) => {
    const li = document.createElement('li')
    li.textContent = data.text
    document.getElementById('events').append(li)
  })
  const item = stream.subscribeItem('todos', 'inbox', 'a')
  item.addChangeListener((it) => {
    document.getElementById('item').textContent = it ? it.title : '(none)'
  })
</script>
`

test('the published browser stream client in Chromium follows a group, an item and custom events', async (t) => {
  assert.ok(
    existsSync(CHROMIUM),
    `Chromium is not installed at ${CHROMIUM}: run "apt-get install -y chromium" (CI's .ci/run does) or set CHROMIUM_PATH`,
  )
  const entry = createRequire(import.meta.url).resolve('@motiadev/stream-client-browser')
  const bundle = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', write: false })
  const client = bundle.outputFiles[0].text

  const engine = await startEngine(t)
  const bridge = await RawBridge.connect(engine.bridgeUrl, t)
  const key = (item_id: string) => ({ stream_name: 'todos', group_id: 'inbox', item_id })
  await bridge.call('streams.set', { ...key('a'), data: { title: 'first' } })

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(page)
    else if (path === '/client.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(client)
    else if (path === '/favicon.ico') res.writeHead(204).end()
    else res.writeHead(404).end()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => {
    server.closeAllConnections() // the browser's keep-alive connection would hold close() open
    return new Promise((r) => server.close(r))
  })
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const userDataDir = mkdtempSync(join(tmpdir(), 'iii-chromium-'))
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
  tab.on('console', (m) => m.type() === 'error' && problems.push(m.text()))
  await tab.goto(`${origin}/?ws=${encodeURIComponent(engine.streamsUrl)}`)

  const texts = (selector: string) => tab.$$eval(selector, (els) => els.map((e) => e.textContent))
  const waitFor = async (selector: string, expected: string[]) => {
    await eventually(async () => JSON.stringify(await texts(selector)) === JSON.stringify(expected), 10_000, 50).catch(
      async () => assert.deepEqual(await texts(selector), expected, `${selector} in the page`),
    )
  }

  await waitFor('#todos li', ['a:first'])
  await waitFor('#item', ['first'])
  await bridge.call('streams.set', { ...key('b'), data: { title: 'second' } })
  await waitFor('#todos li', ['a:first', 'b:second'])
  await bridge.call('streams.update', { ...key('a'), ops: [{ type: 'set', path: 'done', value: true }] })
  await waitFor('#todos li', ['a:first (done)', 'b:second'])
  await bridge.call('streams.set', { ...key('a'), data: { title: 'renamed' } })
  await waitFor('#item', ['renamed'])
  await bridge.call('streams.delete', key('b'))
  await waitFor('#todos li', ['a:renamed'])
  await bridge.call('streams.send', {
    stream_name: 'todos',
    group_id: 'inbox',
    type: 'toast',
    data: { text: 'saved!' },
  })
  await waitFor('#events li', ['saved!'])
  assert.deepEqual(problems, [])
})
