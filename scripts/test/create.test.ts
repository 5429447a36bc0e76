/**
 * `motia create` works anywhere: run from a folder outside the repository, it writes a
 * TypeScript project and a `--python` one there whose dependencies are portable (vendored
 * tarballs and wheels named by relative paths, no absolute `file:` path), and the commands of
 * each project's README run as written: the installs, the long-running commands (started with
 * free ports instead of the defaults) and the curl calls (the port replaced likewise).
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { eventually } from '@iii-dev/testkit'
import { type Cleanup, commandLines, freePort, prebuiltSqliteEnv, repoRoot, run, start } from './lib.ts'

const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'motia-create-outside-')))
after(() => rmSync(tmp, { recursive: true, force: true }))
const motia = join(repoRoot, 'packages/motia/bin/motia.js')
const npmEnv = {
  ...prebuiltSqliteEnv(join(tmp, 'prebuilds')),
  npm_config_prefer_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
}

/** Runs every command of the project's README; resolves with the curl outputs. */
async function runReadme(t: Cleanup, dir: string, expectLast: RegExp): Promise<string> {
  const p = { bridge: await freePort(), api: await freePort(), streams: await freePort() }
  const env = { ...npmEnv, III_BRIDGE_URL: `ws://127.0.0.1:${p.bridge}` }
  const portFlags = ['--api-port', `${p.api}`, '--streams-port', `${p.streams}`]
  const lines = commandLines(readFileSync(join(dir, 'README.md'), 'utf8'))
  const shell = (line: string) =>
    run('bash', ['-c', line.replaceAll('localhost:3111', `localhost:${p.api}`)], { cwd: dir, env, timeoutMs: 100_000 })
  let outputs = ''
  for (const line of lines) {
    if (line === 'npx motia dev') {
      await start(t, 'npx', ['motia', 'dev', ...portFlags], { cwd: dir, env }).waitFor('[motia] ready', 30_000)
    } else if (line.startsWith('npx iii')) {
      const args = [...line.split(/\s+/).slice(1), '--port', `${p.bridge}`, ...portFlags]
      await start(t, 'npx', args, { cwd: dir, env }).waitFor('iii engine ready')
    } else if (line.includes(' -m motia run ')) {
      const [cmd, ...args] = line.split(/\s+/)
      await start(t, cmd, args, { cwd: dir, env }).waitFor('motia ready')
    } else if (line.startsWith('curl ')) {
      outputs += `${await shell(line)}\n`
    } else {
      await shell(line)
    }
  }
  // the last call reads what the event step recorded, which may take a moment
  await eventually(async () => expectLast.test(await shell(lines.at(-1) as string)), 5000)
  return outputs
}

function assertPortable(dir: string): void {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  for (const [name, spec] of Object.entries(pkg.dependencies)) {
    assert.match(String(spec), /^(file:vendor\/[\w.-]+\.tgz|\d+\.\d+\.\d+)$/, `${name}: ${spec}`)
  }
}

// The two projects install and run side by side. Each installs its packages from the registries
// (npm install, pip install), which takes minutes on a busy 2-core machine: each test has
// 5 minutes, each command in it 100 s.
const INSTALL_TIMEOUT = { timeout: 300_000 }
describe('motia create outside the repository', { concurrency: true }, () => {
  test(
    'motia create, run outside the repository, writes a project whose README commands run',
    INSTALL_TIMEOUT,
    async (t) => {
      assert.ok(!tmp.startsWith(repoRoot))
      await run(process.execPath, [motia, 'create', 'my-app', '--skip-install'], { cwd: tmp })
      // the project is self-contained: a copy elsewhere installs and runs the same
      cpSync(join(tmp, 'my-app'), join(tmp, 'moved-app'), { recursive: true })
      const dir = join(tmp, 'moved-app')
      assertPortable(dir)
      const out = await runReadme(t, dir, /"name":"Ada"/)
      assert.match(out, /"message":"Hello, Ada!"/)
    },
  )

  test('motia create --python writes a Python step project whose README commands run', INSTALL_TIMEOUT, async (t) => {
    await run(process.execPath, [motia, 'create', 'py-app', '--python', '--skip-install'], { cwd: tmp })
    const dir = join(tmp, 'py-app')
    assertPortable(dir)
    assert.match(readFileSync(join(dir, 'requirements.txt'), 'utf8'), /^\.\/vendor\/iii-0\.1\.0-py3-none-any\.whl$/m)
    const out = await runReadme(t, dir, /"count":1/)
    assert.match(out, /"message":"Hello, Ada!"/)
  })
})
