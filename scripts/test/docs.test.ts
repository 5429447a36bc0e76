/**
 * The doc test (alone: `node scripts/test-node.mjs scripts/test/docs.test.ts`): every fenced block of README.md, docs/*.md and the Python READMEs (the list is
 * in doc-blocks.ts) runs as written, or says why not with `<!-- doc-test: skip (reason) -->`.
 * By language:
 *
 * - `sh`: each command line runs with bash (after the `with` command started, if any), with
 *   `localhost:3111` pointing at the test's engine and `<id>` replaced by the last `"id"` an
 *   earlier command printed; it must exit 0, and what curl prints must be JSON without `error`.
 * - `ts` / `js`: a block exporting `config` is a Motia file (a step, or the file its first-line
 *   comment names) served by `motia start`; any other block is a script run with node (tsx for
 *   ts) against a fresh engine.
 * - `python`: a block calling `step_wrapper` is a step file served by `python -m motia run`;
 *   any other block is a script run with the project's .venv python against a fresh engine.
 * - `yaml`: an engine config; the engine must start with it (ports and data dir from flags).
 * - `json`: must parse, as one value or one value per line.
 * - no language or `text`: diagrams, synopses, output; listed, not run.
 *
 * A script must pass its `expect` checks (HTTP requests to the engine, retried until the routes
 * are up), or exit 0 when it has none. docs/contributing.md explains the directives.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, test } from 'node:test'
import { type EngineProcess, eventually, startEngine } from '@iii-dev/testkit'
import { type Block, blocksOf, docFiles, type Expect } from './doc-blocks.ts'
import { type Cleanup, freePort, repoRoot, run, start } from './lib.ts'

const SHELL = ['sh', 'bash', 'shell']
const NODE = ['js', 'mjs', 'ts', 'typescript']
const PYTHON = ['python', 'py']
const RUN = [...SHELL, ...NODE, ...PYTHON, 'yaml', 'yml', 'json']
const python = join(repoRoot, '.venv/bin/python')
const motia = join(repoRoot, 'packages/motia/bin/motia.js')

/** A temporary project folder that resolves this repository's packages. */
function project(t: Cleanup): string {
  const dir = mkdtempSync(join(tmpdir(), 'doc-test-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir')
  writeFileSync(join(dir, 'package.json'), '{"type":"module","private":true}\n')
  return dir
}

function write(dir: string, rel: string, text: string): string {
  const p = join(dir, rel)
  mkdirSync(dirname(p), { recursive: true })
  writeFileSync(p, text)
  return p
}

/** The path a block names in its first line (`// streams/todos.stream.ts`, `# users_step.py`). */
function namedPath(text: string): string | null {
  return /^(?:\/\/|#)\s*([\w./-]+\.(?:ts|js|mjs|py))\s*$/m.exec(text.split('\n')[0])?.[1] ?? null
}

async function checkExpects(base: string, expects: Expect[]): Promise<void> {
  for (const e of expects) {
    let last = 'no answer'
    await eventually(
      async () => {
        const res = await fetch(`${base}${e.path}`, {
          method: e.method,
          headers: e.body === undefined ? {} : { 'content-type': 'application/json' },
          body: e.body === undefined ? undefined : JSON.stringify(e.body),
        })
        last = `${res.status} ${await res.text()}`
        return res.status === e.status
      },
      15_000,
      100,
    ).catch(() => assert.fail(`${e.method} ${e.path} answered ${last}, expected ${e.status}`))
  }
}

/** A script or a Motia/Python step file, against a fresh engine; then its checks. */
async function runCode(t: Cleanup, b: Block): Promise<void> {
  const engine = await startEngine(t)
  const env = { ...b.env, III_BRIDGE_URL: engine.bridgeUrl }
  const dir = project(t)
  const isNode = NODE.includes(b.lang)
  const ts = b.lang === 'ts' || b.lang === 'typescript'
  let proc: ReturnType<typeof start>
  if (isNode && /export const config\b/.test(b.text)) {
    write(dir, namedPath(b.text) ?? 'steps/snippet.step.ts', b.text)
    proc = start(t, process.execPath, [motia, 'start', dir], { cwd: dir, env })
    await proc.waitFor('[motia] ready')
  } else if (!isNode && /\bstep_wrapper\(/.test(b.text)) {
    write(dir, namedPath(b.text) ?? 'snippet_step.py', b.text)
    proc = start(t, python, ['-m', 'motia', 'run', dir], { cwd: dir, env })
    await proc.waitFor('motia ready')
  } else {
    const file = write(dir, isNode ? (ts ? 'snippet.ts' : 'snippet.mjs') : 'snippet.py', b.text)
    const args = isNode ? [...(ts ? ['--import', 'tsx'] : []), file] : [file]
    if (b.expects.length === 0) {
      await run(isNode ? process.execPath : python, args, { cwd: dir, env, timeoutMs: 20_000 })
      return
    }
    proc = start(t, isNode ? process.execPath : python, args, { cwd: dir, env })
  }
  await checkExpects(engine.apiUrl, b.expects).catch((err) => {
    throw new Error(`${err.message}\noutput:\n${proc.output()}\nengine:\n${engine.output()}`)
  })
}

/** What a `with` directive starts: the named commands the docs use. */
async function startWith(t: Cleanup, command: string): Promise<{ api: string }> {
  if (command === 'npm start') {
    // `motia dev examples/todos`, on a copy (so the example's data stays as it was) and free ports
    const dir = project(t)
    cpSync(join(repoRoot, 'examples/todos'), dir, {
      recursive: true,
      filter: (src) => !/(^|\/)(\.motia|node_modules)$/.test(src),
    })
    const p = { bridge: await freePort(), api: await freePort(), streams: await freePort() }
    const dev = start(
      t,
      process.execPath,
      [motia, 'dev', dir, '--api-port', `${p.api}`, '--streams-port', `${p.streams}`],
      {
        cwd: dir,
        env: { III_BRIDGE_URL: `ws://127.0.0.1:${p.bridge}` },
      },
    )
    await dev.waitFor('[motia] ready', 30_000)
    return { api: `http://127.0.0.1:${p.api}` }
  }
  if (command === 'iii') {
    const engine: EngineProcess = await startEngine(t)
    return { api: engine.apiUrl }
  }
  throw new Error(`doc-test: unknown "with" command "${command}": add it to startWith() in scripts/test/docs.test.ts`)
}

async function runShell(t: Cleanup, b: Block): Promise<void> {
  const api = b.with === null ? null : (await startWith(t, b.with)).api
  let lastId: string | null = null
  const lines = b.text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
  for (const line of lines) {
    let cmd = line
    if (api !== null) cmd = cmd.replaceAll(/localhost:3111|127\.0\.0\.1:3111/g, api.replace('http://', ''))
    if (cmd.includes('<id>')) {
      assert.ok(lastId !== null, `${line}: no earlier command printed an "id"`)
      cmd = cmd.replaceAll('<id>', lastId)
    }
    const out = await run('bash', ['-c', cmd], { cwd: repoRoot, env: b.env, timeoutMs: 30_000 })
    if (/^\s*curl\b/.test(line)) {
      let json: any
      assert.doesNotThrow(() => (json = JSON.parse(out)), `${line} printed JSON: ${out}`)
      assert.ok(json === null || typeof json !== 'object' || !('error' in json), `${line} answered an error: ${out}`)
    }
    lastId = /"id"\s*:\s*"([^"]+)"/.exec(out)?.[1] ?? lastId
  }
}

async function runYaml(t: Cleanup, b: Block): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'doc-test-data-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const engine = await startEngine(t, { config: b.text, env: { III_DATA: dataDir, ...b.env } })
  assert.match(engine.output(), /iii engine ready/)
  await checkExpects(engine.apiUrl, b.expects)
}

function checkJson(b: Block): void {
  try {
    JSON.parse(b.text)
  } catch {
    for (const line of b.text.split('\n').filter((l) => l.trim() !== '')) {
      assert.doesNotThrow(() => JSON.parse(line), `not JSON, neither as a whole nor line by line: ${line}`)
    }
  }
}

for (const file of docFiles(repoRoot)) {
  describe(file, { concurrency: 2 }, () => {
    for (const b of blocksOf(repoRoot, file)) {
      const title = `${b.id} (${b.lang || 'text'}): ${b.text.split('\n')[0].slice(0, 60)}`
      if (b.skip !== null) {
        test(title, { skip: b.skip }, () => {})
      } else if (!RUN.includes(b.lang)) {
        test(title, { skip: 'text: a diagram, a synopsis or output; not run' }, () => {})
      } else if (SHELL.includes(b.lang)) {
        test(title, (t) => runShell(t, b))
      } else if (b.lang === 'json') {
        test(title, () => checkJson(b))
      } else if (b.lang === 'yaml' || b.lang === 'yml') {
        test(title, (t) => runYaml(t, b))
      } else {
        test(title, (t) => runCode(t, b))
      }
    }
  })
}
