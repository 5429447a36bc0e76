/** The `iii` command: start-up, addresses, and one-sentence failures. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { engineCli, startEngine } from '@iii-dev/testkit'
import WebSocket from 'ws'

const tmp = mkdtempSync(join(tmpdir(), 'iii-cli-'))
const ephemeral = ['--port', '0', '--api-port', '0', '--streams-port', '0', '--data-dir', join(tmp, 'data')]

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [engineCli, ...args], { env: { ...process.env, ...env }, timeout: 10_000 })
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() }
}

function config(text: string): string {
  const file = join(tmp, `c-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, text)
  return file
}

/** The error output must be one line starting with "iii: " and holding no stack trace. */
function assertOneSentence(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split('\n')
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`)
  assert.match(lines[0], /^iii: /)
  assert.match(lines[0], pattern)
  assert.doesNotMatch(stderr, /\n\s+at /)
}

describe('iii command', () => {
  test('prints the addresses it listens on, then "iii engine ready", and exits 0 on SIGTERM', async (t) => {
    const engine = await startEngine(t)
    assert.match(engine.bridgeUrl, /^ws:\/\/127\.0\.0\.1:\d+$/)
    assert.match(engine.apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.match(engine.streamsUrl, /^ws:\/\/127\.0\.0\.1:\d+$/)
    const res = await fetch(`${engine.apiUrl}/nothing-here`)
    assert.equal(res.status, 404)
    assert.equal(await engine.stop(), 0)
  })

  test('a port in use ends start-up with one sentence naming the port', async () => {
    const blocker = createServer().listen(0, '127.0.0.1')
    await new Promise((r) => blocker.once('listening', r))
    const port = (blocker.address() as { port: number }).port
    try {
      for (const flag of ['--port', '--api-port', '--streams-port']) {
        const args = [...ephemeral]
        args[args.indexOf(flag) + 1] = String(port)
        const r = run(args)
        assert.equal(r.status, 1)
        assertOneSentence(r.stderr, new RegExp(`port ${port} \\(\\w+\\) is already in use on 127\\.0\\.0\\.1`))
      }
    } finally {
      blocker.close()
    }
  })

  test('bad flags and bad configs end start-up with one sentence that names the problem', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--bogus'], /Unknown option '--bogus'/],
      [['--port', 'abc'], /--port must be a whole number/],
      [['--config', join(tmp, 'missing.yaml')], /cannot read .*missing\.yaml/],
      [['--config', config('port: [1\n')], /not valid YAML/],
      [['--config', config('colour: blue\n')], /unknown key "colour"/],
      [['--config', config('modules:\n  api:\n    prot: 1\n')], /unknown key "prot" at modules\.api/],
      [['--config', config('modules:\n  state:\n    adapter: mongo\n')], /modules\.state\.adapter/],
      [
        ['--config', config('modules:\n  api:\n    cors:\n      origins: ["*"]\n      credentials: true\n')],
        /credentials/,
      ],
      [['--config', config('port: ${III_TEST_UNSET_VAR}\n')], /III_TEST_UNSET_VAR is not set/],
      [['--log-level', 'loud'], /log_level/],
    ]
    for (const [args, pattern] of cases) {
      const r = run([...ephemeral, ...args])
      assert.equal(r.status, 1, `${args.join(' ')} should fail`)
      assertOneSentence(r.stderr, pattern)
    }
  })

  test('${VAR} and ${VAR:default} are expanded from the environment before parsing', async (t) => {
    const file = config(
      'bridge:\n  invocation_timeout_ms: ${III_TEST_TIMEOUT:1234}\nmodules:\n  cron: ${III_TEST_CRON}\n',
    )
    const engine = await startEngine(t, { args: ['--config', file], env: { III_TEST_CRON: 'false' } })
    const { RawClient } = await import('./raw.ts')
    const c = await RawClient.connect(t, engine.bridgeUrl)
    const types = (await c.call('engine.trigger_types.list', {})).result.trigger_types.map((x: any) => x.id)
    assert.ok(types.includes('event'))
    assert.ok(!types.includes('cron'), 'cron was switched off through the environment')
  })

  test('prints one machine-readable ready line with the real bound ports, after the human lines', async (t) => {
    const engine = await startEngine(t)
    const stdout = engine.output().split('\n')
    const signals = stdout.filter((l) => l.startsWith('{"iii":'))
    assert.equal(signals.length, 1, `one ready line, got:\n${engine.output()}`)
    const line = signals[0]
    const ready = JSON.parse(line)
    assert.deepEqual(Object.keys(ready), ['iii', 'pid', 'bridge', 'api', 'streams'])
    assert.equal(ready.iii, 'ready')
    assert.equal(ready.pid, engine.proc.pid)
    for (const key of ['bridge', 'api', 'streams']) {
      const port = Number(new URL(ready[key]).port)
      assert.ok(port > 0, `${key} has the bound port, not 0: ${ready[key]}`)
    }
    // The human lines stay, and the addresses in them are the same.
    assert.ok(stdout.indexOf('iii engine ready') < stdout.indexOf(line))
    assert.ok(stdout.includes(`  bridge   ${ready.bridge}`))
    // Every listener is up when the line is out.
    assert.equal((await fetch(`${ready.api}/nothing-here`)).status, 404)
    const { RawClient } = await import('./raw.ts')
    const worker = await RawClient.connect(t, ready.bridge)
    assert.match(worker.workerId, /^w-\d+$/)
    const browser = new WebSocket(ready.streams)
    t.after(() => browser.terminate())
    await new Promise((res, rej) => browser.once('open', res).once('error', rej))
  })

  test('the ready line leaves out the modules that are off', async (t) => {
    const engine = await startEngine(t, { config: 'modules:\n  api: false\n  streams: false\n' })
    const ready = JSON.parse(
      engine
        .output()
        .split('\n')
        .find((l) => l.startsWith('{"iii":')) ?? 'null',
    )
    assert.deepEqual(Object.keys(ready), ['iii', 'pid', 'bridge'])
    assert.equal(engine.apiUrl, '')
    assert.match(engine.bridgeUrl, /^ws:\/\/127\.0\.0\.1:[1-9]\d*$/)
  })

  test('--ready-file writes the ready JSON to a file, replacing it whole', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'iii-ready-'))
    const file = join(dir, 'ready.json')
    writeFileSync(file, 'stale content from an earlier run')
    const engine = await startEngine(t, { args: ['--ready-file', file] })
    const line = engine
      .output()
      .split('\n')
      .find((l) => l.startsWith('{"iii":'))
    assert.equal(readFileSync(file, 'utf8'), `${line}\n`)
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).bridge, engine.bridgeUrl)
    assert.deepEqual(readdirSync(dir), ['ready.json'], 'no temporary file is left behind')
  })

  test('a ready file that cannot be written stops the engine with one sentence naming it', () => {
    const file = join(tmp, 'no-such-dir', 'ready.json')
    const r = run([...ephemeral, '--ready-file', file])
    assert.equal(r.status, 1)
    assertOneSentence(r.stderr, /cannot write the ready file .*no-such-dir\/ready\.json: ENOENT/)
    assert.doesNotMatch(r.stdout, /"iii":"ready"/)
  })

  test('--help and --version answer and exit 0', () => {
    const help = run(['--help'])
    assert.equal(help.status, 0)
    assert.match(help.stdout, /--api-port/)
    const version = run(['--version'])
    assert.equal(version.status, 0)
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/)
  })
})
