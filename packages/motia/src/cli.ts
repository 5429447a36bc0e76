#!/usr/bin/env node
/** The `motia` command: `dev`, `start`, `create`, `openapi` and `generate-types`. */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_BRIDGE_URL } from '@iii-dev/sdk'
import { MotiaApp } from './app.js'
import { createProject } from './create.js'
import { reachable, type SpawnedEngine, spawnEngine } from './engine.js'
import { loadOffline } from './offline.js'
import { buildOpenApi } from './openapi.js'
import { projectInfo } from './openapi-route.js'
import { loadProjectConfig } from './project.js'
import { hasPythonSteps, type PythonRuntime, startPython } from './python.js'
import { type FunctionRegistration, stepRegistration, type TriggerRegistration } from './registration.js'
import { STREAM_AUTH_FUNCTION } from './streams.js'
import { generateTypes, motiaModuleName } from './typegen.js'

const usage = `Usage: motia <command> [options]

Commands:
  dev [dir]              load every step of the project (default: .), reload a step when its
                         file changes, serve GET /__motia/openapi.json; starts an engine first
                         unless one answers at III_BRIDGE_URL
  start [dir]            the same without watching files; fails if a step cannot be loaded
  create <dir>           scaffold a new project that runs at once with \`npx motia dev\`
                         (--python: Python steps served by \`motia-py run\`)
  openapi [dir]          print the OpenAPI 3.1 document of the project's API steps
  generate-types [dir]   write types.d.ts: typed ctx.emit, ctx.streams and Handlers<'Step'>

Options:
  --url <ws-url>         engine bridge address (default III_BRIDGE_URL, else ${DEFAULT_BRIDGE_URL})
  --api-port <n>         HTTP port of an engine that motia starts (default 3111)
  --streams-port <n>     stream socket port of an engine that motia starts (default 3112)
  --console              the engine that motia starts serves its web console (127.0.0.1:3113)
  --console-port <n>     the console's port (implies --console; 0 picks a free one)
  --metrics-port <n>     the engine that motia starts serves Prometheus /metrics on this port
  --app <name>           the app's name on the engine (default: package.json name, else the folder's)
  --replica              this process is a replica of --app: others of it may serve the same steps
                         (also MOTIA_REPLICA=1)
  --out <file>           generate-types: where to write (default <dir>/types.d.ts)
  --skip-install         create: do not run npm install (nor create .venv for --python)
  --python               create: a Python step project
  --registry             create: depend on registry versions instead of vendored tarballs
  -h, --help             show this help
  -v, --version          print the version
`

type Values = Record<string, string | boolean | undefined>

function fail(message: string): never {
  process.stderr.write(`motia: ${message}\n`)
  process.exit(1)
}

/** The project folder; `motia dev` never creates it (a typo would start an empty app). */
function projectDir(dir: string, command: string): string {
  const root = resolve(dir)
  if (!existsSync(root)) {
    fail(`the project folder ${root} does not exist (motia ${command} does not create it; motia create <dir> does)`)
  }
  if (!statSync(root).isDirectory()) fail(`${root} is not a folder`)
  return root
}

/** An engine lines filter: worker log records (`logger.log`) were already printed by the worker itself. */
function isWorkerLogRecord(line: string): boolean {
  if (!line.startsWith('{"time":')) return false
  try {
    const r = JSON.parse(line) as Record<string, unknown>
    return typeof r.level === 'string' && typeof r.message === 'string'
  } catch {
    return false
  }
}

/** Uses the engine at `url`, or starts one (data in `<root>/.motia/data`) that ends with this process. */
async function ensureEngine(root: string, url: string, v: Values, auth: boolean): Promise<SpawnedEngine | undefined> {
  if (await reachable(url)) {
    process.stdout.write(
      `[motia] using the engine already running at ${url}: this motia did not start it, so it keeps running when motia stops\n`,
    )
    if (auth) {
      process.stdout.write(
        `[motia] note: motia.config exports authenticateStream; that engine must have modules.streams.auth_function: ${STREAM_AUTH_FUNCTION}\n`,
      )
    }
    if (v.console === true || v['console-port'] !== undefined) {
      process.stdout.write(
        '[motia] note: --console applies to an engine motia starts; start that one with iii --console\n',
      )
    }
    if (v['metrics-port'] !== undefined) {
      process.stdout.write(
        '[motia] note: --metrics-port applies to an engine motia starts; start that one with iii --metrics-port\n',
      )
    }
    return undefined
  }
  process.stdout.write(`[motia] no engine at ${url}: starting one (data in .motia/data)\n`)
  let configFile: string | undefined
  if (auth) {
    mkdirSync(join(root, '.motia'), { recursive: true })
    configFile = join(root, '.motia', 'iii.yaml')
    writeFileSync(
      configFile,
      `# written by motia dev: motia.config exports authenticateStream\nmodules:\n  streams:\n    auth_function: ${STREAM_AUTH_FUNCTION}\n`,
    )
  }
  const engine = await spawnEngine({
    url,
    dataDir: join(root, '.motia', 'data'),
    apiPort: v['api-port'] as string | undefined,
    streamsPort: v['streams-port'] as string | undefined,
    console: v.console === true,
    consolePort: v['console-port'] as string | undefined,
    metricsPort: v['metrics-port'] as string | undefined,
    configFile,
    onLine: (line) => {
      if (!isWorkerLogRecord(line)) process.stdout.write(`[iii] ${line}\n`)
    },
  }).catch((err: Error) => fail(err.message))
  const a = engine.addresses
  process.stdout.write(
    `[motia] engine started: api ${a.api ?? '?'}  streams ${a.streams ?? '?'}  bridge ${a.bridge ?? url}${a.console ? `  console ${a.console}` : ''}\n`,
  )
  return engine
}

async function run(command: 'dev' | 'start', dir: string, v: Values): Promise<void> {
  const root = projectDir(dir, command)
  const url = (v.url as string | undefined) ?? process.env.III_BRIDGE_URL ?? DEFAULT_BRIDGE_URL
  const project = await loadProjectConfig(root).catch(() => ({ authenticateStream: undefined }))
  const engine = await ensureEngine(root, url, v, project.authenticateStream !== undefined)
  const app = new MotiaApp({
    root,
    url,
    watch: command === 'dev',
    strict: command === 'start',
    app: v.app as string | undefined,
    replica: v.replica === true || process.env.MOTIA_REPLICA === '1',
  })
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

/** `motia openapi`: the document of the Node steps, built offline by the same code as the served one. */
async function printOpenApi(dir: string): Promise<void> {
  const root = projectDir(dir, 'openapi')
  const project = await loadOffline(root)
  for (const e of project.errors) process.stderr.write(`[motia] error: cannot load ${e}\n`)
  const functions: FunctionRegistration[] = []
  const triggers: TriggerRegistration[] = []
  for (const { config } of project.steps) {
    config.triggers.forEach((t, i) => {
      const r = stepRegistration(config, t, i)
      functions.push(r.fn)
      triggers.push(r.trigger)
    })
  }
  const doc = buildOpenApi(functions, triggers, projectInfo(root))
  // exit once written: a step file may have opened something that would keep the process up
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`, () => process.exit(project.errors.length > 0 ? 1 : 0))
}

async function writeTypes(dir: string, out: string | undefined): Promise<void> {
  const root = projectDir(dir, 'generate-types')
  const project = await loadOffline(root)
  for (const e of project.errors) process.stderr.write(`[motia] error: cannot load ${e}\n`)
  const file = resolve(root, out ?? 'types.d.ts')
  writeFileSync(file, generateTypes(project, motiaModuleName(root)))
  process.stdout.write(`[motia] wrote ${file}: ${project.steps.length} step(s), ${project.streams.length} stream(s)\n`)
  process.exit(project.errors.length > 0 ? 1 : 0)
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
        console: { type: 'boolean' },
        'console-port': { type: 'string' },
        'metrics-port': { type: 'string' },
        app: { type: 'string' },
        replica: { type: 'boolean' },
        out: { type: 'string' },
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
  const v = parsed.values as Values
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
    case 'openapi':
      return printOpenApi(arg ?? '.')
    case 'generate-types':
      return writeTypes(arg ?? '.', v.out as string | undefined)
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
