/**
 * `npx iii` under a process supervisor: the supervisor signals the process it started (npx),
 * which does not pass the signal on; the engine notices that its launcher is gone and stops
 * (packages/engine/bin/iii.js). Checked for SIGTERM and for SIGKILL of npx: the engine's ports
 * close and no engine process remains.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { eventually } from '@iii-dev/testkit'
import { freePort, listening, processesWith, repoRoot, start } from './lib.ts'

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test(`${signal} to the npx process that runs \`npx iii\` stops the engine`, async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'npx-iii-'))
    t.after(() => rmSync(dataDir, { recursive: true, force: true }))
    const p = { bridge: await freePort(), api: await freePort(), streams: await freePort() }
    const flags = ['--port', `${p.bridge}`, '--api-port', `${p.api}`, '--streams-port', `${p.streams}`]
    const npx = start(t, 'npx', ['iii', ...flags, '--data-dir', dataDir], { cwd: repoRoot })
    await npx.waitFor('iii engine ready')
    const engines = processesWith(dataDir).filter((pid) => pid !== npx.proc.pid)
    assert.ok(engines.length >= 1, 'the engine runs in a process of its own, under npx')

    process.kill(npx.proc.pid as number, signal)
    await eventually(async () => !(await listening(p.bridge)) && !(await listening(p.api)), 5000)
    await eventually(() => processesWith(dataDir).length === 0, 5000)
    if (signal === 'SIGTERM') assert.match(npx.output(), /the process that launched the engine is gone; stopping/)
  })
}
