#!/usr/bin/env node
/** The `motia` command: `dev`, `start` and `create`. */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_BRIDGE_URL } from '@iii-dev/sdk'
import { MotiaApp } from './app.js'
import { createProject } from './create.js'
import { reachable, type SpawnedEngine, spawnEngine } from './engine.js'
import { hasPythonSteps, type PythonRuntime, startPython } from './python.js'

const usage = `Usage: motia <command> [options]

Commands:
  dev [dir]        load every step of the project (default: .), reload a step when its file
                   changes; starts an engine first unless one answers at III_BRIDGE_URL
  start [dir]      the same without watching files; fails if a step cannot be loaded
  create <dir>     scaffold a new project that runs at once with \`npx motia dev\`
                   (--python: Python steps served by \`python -m motia run\`)

Options:
  --url <ws-url>         engine bridge address (default III_BRIDGE_URL, else ${DEFAULT_BRIDGE_URL})
  --api-port <n>         HTTP port of an engine that motia starts (default 3111)
  --streams-port <n>     stream socket port of an engine that motia starts (default 3112)
  --skip-install         create: do not run npm install (nor create .venv for --python)
  --python               create: a Python step project
  --registry             create: depend on registry versions instead of vendored tarballs
  -h, --help             show this help
  -v, --version          print the version
`

function fail(message: string): never {
  process.stderr.write(`motia: ${message}\n`)
  process.exit(1)
}

async function run(command: string, dir: string, v: Record<string, string | boolean | undefined>): Promise<void> {
  const root = resolve(dir)
  const url = (v.url as string | undefined) ?? process.env.III_BRIDGE_URL ?? DEFAULT_BRIDGE_URL
  let engine: SpawnedEngine | undefined
  if (!(await reachable(url))) {
    process.stdout.write(`[motia] no engine at ${url}: starting one (data in .motia/data)\n`)
    engine = await spawnEngine({
      url,
      dataDir: join(root, '.motia', 'data'),
      apiPort: v['api-port'] as string | undefined,
      streamsPort: v['streams-port'] as string | undefined,
      onLine: (line) => process.stdout.write(`[iii] ${line}\n`),
    }).catch((err: Error) => fail(err.message))
    const a = engine.addresses
    process.stdout.write(
      `[motia] engine started: api ${a.api ?? '?'}  streams ${a.streams ?? '?'}  bridge ${a.bridge ?? url}\n`,
    )
  }
  const app = new MotiaApp({ root, url, watch: command === 'dev', strict: command === 'start' })
  let stopping = false
  let python: PythonRuntime | undefined
  const shutdown = async () => {
    if (stopping) return
    stopping = true
    const force = setTimeout(() => process.exit(1), 8000)
    force.unref()
    await python?.stop()
    await app.stop().catch(() => {})
    await engine?.stop()
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown())
  process.on('SIGTERM', () => void shutdown())
  engine?.proc.once('exit', (code) => {
    if (!stopping) fail(`the engine exited (code ${code})`)
  })
  try {
    await app.start()
    // the project's *_step.py files run in Python Motia on the same engine (python.ts)
    if (hasPythonSteps(root)) python = await startPython({ root, url, mode: command === 'dev' ? 'dev' : 'run' })
  } catch (err) {
    await engine?.stop()
    fail((err as Error).message)
  }
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        'api-port': { type: 'string' },
        'streams-port': { type: 'string' },
        'skip-install': { type: 'boolean' },
        python: { type: 'boolean' },
        registry: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    })
  } catch (err) {
    fail(`${(err as Error).message.split('.')[0]} (see motia --help)`)
  }
  const v = parsed.values as Record<string, string | boolean | undefined>
  const [command, arg, ...rest] = parsed.positionals
  if (v.version) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    process.stdout.write(`${pkg.version}\n`)
    return
  }
  if (v.help || command === undefined) {
    process.stdout.write(usage)
    return
  }
  if (rest.length > 0) fail(`unexpected argument "${rest[0]}" (see motia --help)`)
  switch (command) {
    case 'dev':
    case 'start':
      return run(command, arg ?? '.', v)
    case 'create':
      if (arg === undefined) fail('create needs a directory: motia create <dir>')
      try {
        createProject(arg, { install: !v['skip-install'], python: v.python === true, registry: v.registry === true })
      } catch (err) {
        fail((err as Error).message)
      }
      return
    default:
      fail(`unknown command "${command}" (see motia --help)`)
  }
}

main().catch((err) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)))
