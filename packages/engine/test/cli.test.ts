/** The `iii` command: start-up, addresses, and one-sentence failures. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { engineCli, startEngine } from '@iii-dev/testkit'

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

  test('--help and --version answer and exit 0', () => {
    const help = run(['--help'])
    assert.equal(help.status, 0)
    assert.match(help.stdout, /--api-port/)
    const version = run(['--version'])
    assert.equal(version.status, 0)
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/)
  })
})
