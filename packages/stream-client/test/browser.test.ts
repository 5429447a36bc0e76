// The stream client in real headless Chromium: a page served on localhost loads the built
// client as an ES module, follows a group and an item, and shows changes made through the
// engine (streams.set / update / delete / send from a bridge client) as they happen.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { extname, join, normalize, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startEngine } from '@iii-dev/testkit'
import { chromium } from 'playwright-core'
import { RawBridge } from '../../engine/test/fixtures/streams-helpers.ts'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const pkg = resolve(fileURLToPath(import.meta.url), '../..')
const dist = join(pkg, 'dist')
const page = readFileSync(join(pkg, 'test/fixtures/page.html'), 'utf8')
const types: Record<string, string> = { '.js': 'text/javascript', '.map': 'application/json', '.html': 'text/html' }

test('a page in headless Chromium shows stream changes made through the engine, live', async (t) => {
  assert.ok(
    existsSync(CHROMIUM),
    `Chromium is not installed at ${CHROMIUM}: run "apt-get install -y chromium" (CI's .ci/run does) or set CHROMIUM_PATH`,
  )
  assert.ok(
    existsSync(join(dist, 'index.js')),
    `the stream client is not built: run "npm run build" (${dist} is missing)`,
  )

  const engine = await startEngine(t)
  const bridge = await RawBridge.connect(engine.bridgeUrl, t)
  await bridge.call('streams.set', { stream_name: 'todos', group_id: 'inbox', item_id: 'a', data: { title: 'first' } })

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/favicon.ico') {
      res.writeHead(204).end()
      return
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page)
      return
    }
    const file = normalize(join(pkg, path))
    if (!path.startsWith('/dist/') || !file.startsWith(dist) || !existsSync(file)) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => new Promise((r) => server.close(r)))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const userDataDir = mkdtempSync(join(tmpdir(), 'iii-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
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
  const texts = () => tab.$$eval('#todos li', (lis) => lis.map((li) => li.textContent))
  const waitTexts = (expected: string[]) =>
    tab.waitForFunction(
      (want) => JSON.stringify(Array.from(document.querySelectorAll('#todos li')).map((li) => li.textContent)) === want,
      JSON.stringify(expected),
      { timeout: 10_000 },
    )

  await waitTexts(['first'])
  assert.equal(await tab.textContent('#status'), 'synced')
  assert.equal(await tab.textContent('#topic'), '(none)')

  const set = (item_id: string, data: unknown) =>
    bridge.call('streams.set', { stream_name: 'todos', group_id: 'inbox', item_id, data })
  await set('b', { title: 'second' })
  await waitTexts(['first', 'second'])
  await bridge.call('streams.update', {
    stream_name: 'todos',
    group_id: 'inbox',
    item_id: 'a',
    ops: [{ type: 'set', path: 'done', value: true }],
  })
  await waitTexts(['first (done)', 'second'])
  await bridge.call('streams.delete', { stream_name: 'todos', group_id: 'inbox', item_id: 'b' })
  await waitTexts(['first (done)'])
  await set('topic', { title: 'weekly plan' })
  await tab.waitForFunction(() => document.getElementById('topic')?.textContent === 'weekly plan', undefined, {
    timeout: 10_000,
  })
  await bridge.call('streams.send', {
    stream_name: 'todos',
    group_id: 'inbox',
    type: 'toast',
    data: { text: 'saved!' },
  })
  await tab.waitForFunction(() => document.querySelector('#events li')?.textContent === 'saved!', undefined, {
    timeout: 10_000,
  })

  assert.deepEqual(await texts(), ['first (done)', 'weekly plan'])
  assert.deepEqual(problems, [])
})
