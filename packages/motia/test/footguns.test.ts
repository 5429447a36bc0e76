/**
 * No silent footguns, each through real processes: two apps registering one step name, a
 * missing project folder, a step whose trigger the engine refused, `kill -9` of `motia dev`,
 * an engine motia did not start, log lines printed twice, and 4xx answers logged at info.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { type Cleanup, eventually, startEngine } from '@iii-dev/testkit'
import { freePort, http, type MotiaProcess, startMotia } from './helpers.ts'

/** A project folder with a package.json name and the given step files. */
function project(t: Cleanup, name: string, steps: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), `motia-${name}-`))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, type: 'module', private: true }))
  mkdirSync(join(dir, 'steps'))
  for (const [file, text] of Object.entries(steps)) writeFileSync(join(dir, 'steps', file), text)
  return dir
}

const greet = (who: string) => `
export const config = { name: 'Greet', triggers: [{ type: 'api', path: '/greet', method: 'GET' }] }
export const handler = async () => ({ status: 200, body: { from: '${who}' } })
`

function exited(m: MotiaProcess): Promise<number | null> {
  if (m.proc.exitCode !== null || m.proc.signalCode !== null) return Promise.resolve(m.proc.exitCode)
  return new Promise((r) => m.proc.once('exit', (code) => r(code)))
}

/** True while the process runs (a zombie waiting for a reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z'
  } catch {
    return false
  }
}

describe('one app per step name', () => {
  test('a second app registering the same step name is refused, naming both apps', async (t) => {
    const engine = await startEngine(t)
    const a = project(t, 'app-a', { 'greet.step.ts': greet('a') })
    const b = project(t, 'app-b', { 'greet.step.ts': greet('b') })
    const ma = startMotia(t, ['dev', a], { III_BRIDGE_URL: engine.bridgeUrl })
    await ma.waitFor('[motia] ready')
    const mb = startMotia(t, ['start', b], { III_BRIDGE_URL: engine.bridgeUrl })
    assert.equal(await exited(mb), 1, 'motia start exits 1')
    const out = mb.output()
    assert.match(out, /step "Greet" is already registered on the engine by app "app-a" \(/)
    assert.ok(out.includes(a), `names the other app's folder: ${out}`)
    assert.match(out, /this app is "app-b" \(/)
    assert.ok(out.includes(b), 'names its own folder')
    assert.ok(!out.includes('loaded step Greet'), out)
    // app-a alone answers
    for (let i = 0; i < 10; i++) assert.deepEqual((await http(engine.apiUrl, 'GET', '/greet')).body, { from: 'a' })
  })

  test('replicas of one app (--replica, same --app) may register the same steps and share the calls', async (t) => {
    const engine = await startEngine(t)
    const a = project(t, 'shop-1', { 'greet.step.ts': greet('a') })
    const b = project(t, 'shop-2', { 'greet.step.ts': greet('b') })
    const ma = startMotia(t, ['start', a, '--app', 'shop', '--replica'], { III_BRIDGE_URL: engine.bridgeUrl })
    await ma.waitFor('[motia] ready')
    const mb = startMotia(t, ['start', b, '--app', 'shop'], { III_BRIDGE_URL: engine.bridgeUrl, MOTIA_REPLICA: '1' })
    await mb.waitFor('[motia] ready')
    assert.match(mb.output(), /loaded step Greet/)
    const seen = new Set<string>()
    await eventually(async () => {
      seen.add((await http(engine.apiUrl, 'GET', '/greet')).body.from)
      return seen.size === 2
    })
  })

  test('only one of two apps marked --replica is not enough: different app names are refused', async (t) => {
    const engine = await startEngine(t)
    const a = project(t, 'one', { 'greet.step.ts': greet('a') })
    const b = project(t, 'two', { 'greet.step.ts': greet('b') })
    const ma = startMotia(t, ['start', a, '--replica'], { III_BRIDGE_URL: engine.bridgeUrl })
    await ma.waitFor('[motia] ready')
    const mb = startMotia(t, ['start', b, '--replica'], { III_BRIDGE_URL: engine.bridgeUrl })
    assert.equal(await exited(mb), 1)
    assert.match(mb.output(), /already registered on the engine by app "one"/)
  })
})

test('motia dev in a missing folder refuses and creates nothing', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'motia-missing-'))
  t.after(() => rmSync(parent, { recursive: true, force: true }))
  const dir = join(parent, 'typo')
  const port = await freePort()
  const m = startMotia(t, ['dev', dir], { III_BRIDGE_URL: `ws://127.0.0.1:${port}` })
  assert.equal(await exited(m), 1)
  assert.match(m.output(), /the project folder .*typo does not exist \(motia dev does not create it/)
  assert.ok(!existsSync(dir), 'the folder was not created')
  assert.ok(!m.output().includes('starting one'), 'no engine was started')
})

test('a step whose trigger the engine refused (a bad cron) is reported, not "loaded", and serves nothing', async (t) => {
  const engine = await startEngine(t)
  const dir = project(t, 'crons', {
    'bad.step.ts': `
export const config = { name: 'BadCron', triggers: [
  { type: 'api', path: '/badcron', method: 'GET' },
  { type: 'cron', expression: 'every full moon' },
] }
export const handler = async () => ({ status: 200, body: 'ran' })
`,
    'good.step.ts': greet('good'),
  })
  const m = startMotia(t, ['dev', dir], { III_BRIDGE_URL: engine.bridgeUrl })
  await m.waitFor('[motia] ready')
  const out = m.output()
  assert.match(
    out,
    /error: step BadCron \(steps\/bad\.step\.ts\) is not loaded: the engine refused trigger 1: invalid_trigger: /,
  )
  assert.ok(!out.includes('loaded step BadCron'), out)
  assert.match(out, /loaded step Greet/)
  assert.match(out, /ready: 1 step\(s\)/)
  assert.equal((await http(engine.apiUrl, 'GET', '/badcron')).status, 404, 'its api trigger was taken back')
  assert.equal((await http(engine.apiUrl, 'GET', '/greet')).status, 200)

  // a hot reload the engine refuses is reported the same way; fixing the file loads it again
  let mark = m.output().length
  const good = join(dir, 'steps/good.step.ts')
  writeFileSync(
    good,
    greet('good').replace("method: 'GET' }", "method: 'GET' }, { type: 'cron', expression: '61 * * * *' }"),
  )
  await m.waitFor('reload done', 10_000, mark)
  assert.match(
    m.output().slice(mark),
    /error: step Greet \(steps\/good\.step\.ts\) is not loaded: the engine refused trigger 1/,
  )
  // The refused step's trigger is taken back by a frame the report does not wait for.
  await eventually(async () => (await http(engine.apiUrl, 'GET', '/greet')).status === 404, 5000)
  mark = m.output().length
  writeFileSync(good, greet('fixed'))
  await m.waitFor('loaded step Greet', 10_000, mark)
  assert.deepEqual((await http(engine.apiUrl, 'GET', '/greet')).body, { from: 'fixed' })

  const strict = startMotia(t, ['start', dir], { III_BRIDGE_URL: engine.bridgeUrl, MOTIA_REPLICA: '1' })
  assert.equal(await exited(strict), 1, 'motia start fails on it')
})

test('motia dev that finds an engine it did not start says so, and leaves it running', async (t) => {
  const engine = await startEngine(t)
  const dir = project(t, 'guest', { 'greet.step.ts': greet('g') })
  const m = startMotia(t, ['dev', dir], { III_BRIDGE_URL: engine.bridgeUrl })
  await m.waitFor('[motia] ready')
  assert.ok(
    m.output().includes(`using the engine already running at ${engine.bridgeUrl}: this motia did not start it`),
    m.output(),
  )
  await m.stop()
  assert.equal((await fetch(`${engine.apiUrl}/greet`)).status, 404, 'the engine still answers')
})

describe('motia dev with its own engine', () => {
  const logSteps = {
    'talk.step.ts': `
export const config = { name: 'Talk', triggers: [{ type: 'api', path: '/talk/:id', method: 'POST',
  bodySchema: { type: 'object', required: ['n'], properties: { n: { type: 'number' } } } }] }
export const handler = async (req, ctx) => {
  ctx.logger.info('said ' + req.path_params.id)
  return req.body.n > 10 ? { status: 404, body: { error: 'no_such_thing' } } : { status: 200, body: { ok: true } }
}
`,
  }

  test('each log line prints once; 4xx answers are logged at info with their status', async (t) => {
    const dir = project(t, 'talker', logSteps)
    const port = await freePort()
    const m = startMotia(t, ['dev', dir, '--api-port', '0', '--streams-port', '0'], {
      III_BRIDGE_URL: `ws://127.0.0.1:${port}`,
    })
    await m.waitFor('[motia] ready', 20_000)
    const api = /engine started: api (\S+)/.exec(m.output())?.[1] as string
    const id = `x${Date.now()}`
    assert.equal((await http(api, 'POST', `/talk/${id}`, { n: 1 })).status, 200)
    await m.waitFor(`said ${id}`)
    assert.equal((await http(api, 'POST', `/talk/${id}`, { n: 'one' })).status, 400)
    assert.equal((await http(api, 'POST', `/talk/${id}`, { n: 11 })).status, 404)
    await m.waitFor(`answered 404`)
    await new Promise((r) => setTimeout(r, 500)) // an echo through the engine would come now
    const lines = m.output().split('\n')
    assert.equal(lines.filter((l) => l.includes(`said ${id}`)).length, 2, 'two calls, one line each')
    const bad = lines.filter((l) => l.includes(`POST /talk/:id answered 400`))
    assert.equal(bad.length, 1, m.output())
    assert.match(bad[0], / INFO .*answered 400 validation_failed \(body\) \{"status":400\}/)
    const missing = lines.filter((l) => l.includes('answered 404'))
    assert.equal(missing.length, 1)
    assert.match(missing[0], / INFO .*answered 404 no_such_thing/)
  })

  test('kill -9 of motia dev also ends the engine it started', async (t) => {
    const dir = project(t, 'killed', logSteps)
    const port = await freePort()
    const m = startMotia(t, ['dev', dir, '--api-port', '0', '--streams-port', '0'], {
      III_BRIDGE_URL: `ws://127.0.0.1:${port}`,
    })
    await m.waitFor('[motia] ready', 20_000)
    const api = /engine started: api (\S+)/.exec(m.output())?.[1] as string
    const ps = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(m.proc.pid)], { encoding: 'utf8' }).stdout
    const engines = ps.split('\n').filter((l) => l.includes('bin/iii.js'))
    assert.equal(engines.length, 1, `motia runs one engine:\n${ps}`)
    const enginePid = Number(engines[0].trim().split(/\s+/)[0])
    assert.equal((await http(api, 'POST', '/talk/1', { n: 1 })).status, 200)
    m.proc.kill('SIGKILL')
    await exited(m)
    await eventually(() => !alive(enginePid), 10_000)
    await assert.rejects(fetch(`${api}/talk/1`), 'nothing answers on its port')
  })
})
