/**
 * The `motia` command: `create` scaffolds a project with this repository's packages vendored, and
 * `dev` starts its own engine when none answers, then serves the scaffold at once.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { eventually, repoRoot, startEngine } from '@iii-dev/testkit'
import { freePort, http, startMotia } from './helpers.ts'

test('motia create scaffolds a project that motia dev runs at once, starting its own engine', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'motia-create-'))
  t.after(() => rmSync(tmp, { recursive: true, force: true }))
  const dir = join(tmp, 'my-app')
  const create = startMotia(t, ['create', dir, '--skip-install'])
  await create.waitFor('npx motia dev')

  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  // portable: this repository's packages, packed into the project's vendor/ folder
  assert.equal(pkg.dependencies.motia, 'file:vendor/motia-0.1.0.tgz')
  assert.equal(pkg.dependencies['@iii-dev/sdk'], 'file:vendor/iii-dev-sdk-0.1.0.tgz')
  assert.equal(pkg.dependencies['@iii-dev/engine'], 'file:vendor/iii-dev-engine-0.1.0.tgz')
  for (const spec of Object.values(pkg.dependencies)) assert.doesNotMatch(String(spec), /file:\//)
  assert.ok(existsSync(join(dir, 'vendor/motia-0.1.0.tgz')))
  assert.equal(pkg.type, 'module')
  // what `npm install` would give: this repository's packages
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir')

  const port = await freePort()
  const dev = startMotia(t, ['dev', dir, '--api-port', '0', '--streams-port', '0'], {
    III_BRIDGE_URL: `ws://127.0.0.1:${port}`,
  })
  await dev.waitFor('[motia] ready', 20_000)
  const api = /engine started: api (\S+)/.exec(dev.output())?.[1] as string
  assert.match(api, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.ok(existsSync(join(dir, '.motia/data')), 'the engine keeps its data in .motia/data')

  const hello = await http(api, 'POST', '/hello', { name: 'Ada' })
  assert.equal(hello.status, 200)
  assert.equal(hello.body.message, 'Hello, Ada!')
  const bad = await http(api, 'POST', '/hello', { name: '' })
  assert.equal(bad.status, 400)
  const list = await eventually(async () => {
    const r = await http(api, 'GET', '/greetings')
    return r.body?.length === 1 && r.body
  })
  assert.equal(list[0].name, 'Ada')

  // stopping motia stops the engine it started
  await dev.stop()
  await eventually(async () => {
    try {
      await fetch(`${api}/greetings`)
      return false
    } catch {
      return true
    }
  })
})

test('motia create refuses a directory that is not empty', async (t) => {
  const create = startMotia(t, ['create', join(repoRoot, 'packages/motia')])
  await create.waitFor('already exists and is not empty')
  if (create.proc.exitCode === null) await new Promise((r) => create.proc.once('exit', r))
  assert.equal(create.proc.exitCode, 1)
})

test('motia start refuses a project with a step it cannot load, naming the file and the field', async (t) => {
  const engine = await startEngine(t)
  const dir = mkdtempSync(join(tmpdir(), 'motia-broken-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'steps'))
  writeFileSync(
    join(dir, 'steps/bad.step.ts'),
    "export const config = { name: 'Bad', triggers: [{ type: 'api', path: 'no-slash', method: 'GET' }] }\n" +
      'export const handler = async () => ({ status: 200 })\n',
  )
  const start = startMotia(t, ['start', dir], { III_BRIDGE_URL: engine.bridgeUrl })
  await start.waitFor('1 file(s) could not be loaded')
  if (start.proc.exitCode === null) await new Promise((r) => start.proc.once('exit', r))
  assert.equal(start.proc.exitCode, 1)
  assert.match(start.output(), /steps\/bad\.step\.ts: config\.triggers\[0\]\.path must start with "\/"/)
})

test('motia dev --console-port 0: the engine it starts serves the console, and motia prints its address', async (t) => {
  const port = await freePort()
  const dev = startMotia(
    t,
    [
      'dev',
      join(repoRoot, 'packages/motia/test/fixtures/basic'),
      '--api-port',
      '0',
      '--streams-port',
      '0',
      '--console-port',
      '0',
    ],
    { III_BRIDGE_URL: `ws://127.0.0.1:${port}` },
  )
  await dev.waitFor('[motia] ready', 20_000)
  const url = / console (http:\S+)/.exec(dev.output())?.[1] as string
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
  const res = await fetch(`${url}/api/invoke`, {
    method: 'POST',
    body: JSON.stringify({ function_path: 'engine.workers.list', data: {} }),
  })
  assert.equal(res.status, 200)
  const { result } = (await res.json()) as { result: { workers: Array<{ name?: string }> } }
  assert.ok(result.workers.length >= 1, 'the motia worker is listed')
  assert.match(await (await fetch(url)).text(), /<title>iii console<\/title>/)
})

test('motia dev --metrics-port 0: the engine it starts serves /metrics, counting the steps it runs', async (t) => {
  const port = await freePort()
  const dev = startMotia(
    t,
    [
      'dev',
      join(repoRoot, 'packages/motia/test/fixtures/basic'),
      '--api-port',
      '0',
      '--streams-port',
      '0',
      '--metrics-port',
      '0',
    ],
    { III_BRIDGE_URL: `ws://127.0.0.1:${port}` },
  )
  await dev.waitFor('[motia] ready', 20_000)
  const url = / metrics\s+(http:\S+)/.exec(dev.output())?.[1] as string
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
  const text = await (await fetch(url)).text()
  assert.match(text, /^iii_workers_connected\{runtime="node"\} [1-9]/m)
})
