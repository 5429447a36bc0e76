#!/usr/bin/env node
/** The `iii` command: starts the engine and prints the addresses it listens on. */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { type CliOverrides, ConfigError, type EngineOptions, loadOptions } from './config.js'
import { createEngine } from './index.js'
import { orderedAddresses, readyJson, writeReadyFile } from './ready.js'

const usage = `Usage: iii [options]

Starts the iii engine. With no config file it runs every built-in module with the
embedded store in ./data.

Options:
  --config <file>        YAML config file (\${VAR} and \${VAR:default} are expanded)
  --host <host>          address to listen on (default 127.0.0.1)
  --port <n>             worker bridge port (default 49134; 0 picks a free one)
  --api-port <n>         HTTP api port (default 3111)
  --streams-port <n>     stream socket port (default 3112)
  --data-dir <dir>       where the embedded store keeps its files (default ./data)
  --log-level <level>    debug, info, warn or error (default info)
  --ready-file <file>    once listening, write the ready JSON (see below) to this file
  --redis <url>          join the cluster of engines on this Redis (also III_REDIS_URL):
                         state, streams, cron and the function registry move there
  --tracing              record a span per invocation (docs/observability.md)
  --log-format <f>       text (default) or json
  --console              serve the web console (console: in the config; default 127.0.0.1:3113,
                         docs/console.md)
  --console-port <n>     console port (implies --console; 0 picks a free one)
  --metrics-port <n>     serve Prometheus /metrics on this port (metrics: in the config;
                         off by default; 0 picks a free one; docs/observability.md)
  --insecure             allow a non-loopback --host without worker authentication
  -h, --help             show this help
  -v, --version          print the version

Once every listener is up it prints the addresses and then one machine-readable line:
  {"iii":"ready","pid":<pid>,"bridge":"ws://...","api":"http://...","streams":"ws://..."}
(a module that is off has no key; the ports are the real ones, also with --port 0).
`

function fail(message: string): never {
  process.stderr.write(`iii: ${message}\n`)
  process.exit(1)
}

function portFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > 65535) fail(`--${name} must be a whole number from 0 to 65535, not "${value}"`)
  return n
}

interface CliArgs extends CliOverrides {
  readyFile?: string
}

function parseCli(argv: string[]): CliArgs {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c' },
        host: { type: 'string' },
        port: { type: 'string' },
        'api-port': { type: 'string' },
        'streams-port': { type: 'string' },
        'data-dir': { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        tracing: { type: 'boolean' },
        'ready-file': { type: 'string' },
        redis: { type: 'string' },
        insecure: { type: 'boolean' },
        console: { type: 'boolean' },
        'console-port': { type: 'string' },
        'metrics-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    })
  } catch (err) {
    fail(`${(err as Error).message.split('.')[0]} (see iii --help)`)
  }
  const v = parsed.values as Record<string, string | boolean | undefined>
  if (v.help) {
    process.stdout.write(usage)
    process.exit(0)
  }
  if (v.version) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    process.stdout.write(`${pkg.version}\n`)
    process.exit(0)
  }
  return {
    config: v.config as string | undefined,
    host: v.host as string | undefined,
    port: portFlag('port', v.port as string | undefined),
    apiPort: portFlag('api-port', v['api-port'] as string | undefined),
    streamsPort: portFlag('streams-port', v['streams-port'] as string | undefined),
    dataDir: v['data-dir'] as string | undefined,
    logLevel: v['log-level'] as string | undefined,
    logFormat: v['log-format'] as string | undefined,
    // The console shows traces: --console turns tracing on unless the config turns it off.
    tracing: v.tracing === true,
    readyFile: v['ready-file'] as string | undefined,
    redis: v.redis as string | undefined,
    insecure: v.insecure === true,
    console: v.console === true,
    consolePort: portFlag('console-port', v['console-port'] as string | undefined),
    metricsPort: portFlag('metrics-port', v['metrics-port'] as string | undefined),
  }
}

async function main(): Promise<void> {
  const cli = parseCli(process.argv.slice(2))
  let options: EngineOptions
  try {
    options = loadOptions(cli)
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message)
    throw err
  }
  const engine = createEngine(options)
  try {
    await engine.start()
  } catch (err) {
    fail((err as Error).message)
  }
  const addresses: Record<string, string> = engine.addresses()
  if (options.console !== null) {
    // Loaded only with the console on, so the engine's cold start is unchanged without it.
    const { startConsole } = await import('./modules/console/server.js')
    try {
      addresses.console = (
        await startConsole(
          { ...options.console, headerTimeoutMs: options.headerTimeoutMs, apiUrl: addresses.api },
          (path, data) => engine.invoke(path, data),
        )
      ).url
    } catch (err) {
      await engine.stop()
      fail(`console: ${(err as Error).message}`)
    }
  }
  const lines = orderedAddresses(addresses).map(([name, url]) => `  ${name.padEnd(8)} ${url}`)
  const ready = readyJson(process.pid, addresses)

  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    const grace = options.shutdownGraceMs ?? 10_000
    engine.log.info(`${signal} received; stopping (up to ${grace} ms for work in flight)`)
    const force = setTimeout(() => {
      process.stderr.write('iii: shutdown took too long; exiting\n')
      process.exit(1)
    }, grace + 10_000)
    force.unref()
    engine.shutdown(grace).then(
      () => process.exit(0),
      (err) => fail(`shutdown failed: ${(err as Error).message}`),
    )
  }
  // Before the ready signal: a supervisor may send SIGTERM the moment it reads it.
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  if (cli.readyFile !== undefined) {
    try {
      writeReadyFile(cli.readyFile, ready)
    } catch (err) {
      await engine.stop()
      fail((err as Error).message)
    }
  }
  process.stdout.write(`iii engine listening\n${lines.join('\n')}\niii engine ready\n${ready}\n`)
}

main().catch((err) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)))
