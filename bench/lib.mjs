// Shared benchmark helpers: processes, statistics, machine facts, reports.
import { execSync, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer as createNetServer } from 'node:net'
import { cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const engineCli = join(root, 'packages/engine/bin/iii.js')
const live = new Set()

/**
 * The command line that runs `node <nodeArgs>`, pinned to `cpu` with taskset when given, and
 * with the open-files limit raised as far as the hard limit allows when `manyFiles` is set
 * (through `bash -c 'ulimit -n ...; exec ...'`, so the pid stays the node process's).
 */
export function nodeCommand(nodeArgs, { cpu, manyFiles = false } = {}) {
  const argv =
    cpu === undefined ? [process.execPath, ...nodeArgs] : ['taskset', '-c', String(cpu), process.execPath, ...nodeArgs]
  if (!manyFiles) return { command: argv[0], args: argv.slice(1) }
  const quoted = argv.map((a) => `'${String(a).replaceAll("'", "'\\''")}'`).join(' ')
  return { command: 'bash', args: ['-c', `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${quoted}`] }
}

/**
 * Spawns a node script (optionally pinned to CPUs with taskset) and resolves once it printed
 * `readyText`. With `ipc: true` the result has `request(msg)`: it sends `{id, ...msg}` over the
 * IPC channel and resolves with the child's answer carrying the same id (`{id, error}` rejects).
 */
export function startProcess(
  script,
  args = [],
  { env = {}, readyText = 'ready', cpu, timeoutMs = 15_000, ipc = false, manyFiles = false } = {},
) {
  const { command, args: argv } = nodeCommand([script, ...args], { cpu, manyFiles })
  const stdio = ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe']
  const proc = spawn(command, argv, { env: { ...process.env, ...env }, stdio, cwd: root })
  live.add(proc)
  proc.on('exit', () => live.delete(proc))
  let out = ''
  proc.stdout.setEncoding('utf8')
  proc.stderr.setEncoding('utf8')
  proc.stdout.on('data', (d) => (out += d))
  proc.stderr.on('data', (d) => (out += d))
  const waiting = new Map()
  let nextId = 1
  if (ipc) {
    proc.on('message', (m) => {
      const w = waiting.get(m.id)
      if (w === undefined) return
      waiting.delete(m.id)
      if (m.error) w.reject(new Error(`${script}: ${m.error}`))
      else w.resolve(m)
    })
    proc.on('exit', (code) => {
      for (const w of waiting.values()) w.reject(new Error(`${script} exited with ${code}:\n${out}`))
      waiting.clear()
    })
  }
  const request = (msg) =>
    new Promise((resolve, reject) => {
      const id = nextId++
      waiting.set(id, { resolve, reject })
      proc.send({ id, ...msg })
    })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready:\n${out}`)), timeoutMs)
    const check = () => {
      if (!out.includes(readyText)) return
      clearTimeout(timer)
      proc.stdout.off('data', check)
      resolve({ proc, pid: proc.pid, output: () => out, stop: () => stopProcess(proc), request })
    }
    proc.stdout.on('data', check)
    proc.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${script} exited with ${code}:\n${out}`))
    })
  })
}

/**
 * Answers a coordinator's IPC requests in a child started with `ipc: true`: `handlers[msg.cmd]`
 * gets the message and its (awaited) result is sent back with the same id.
 */
export function serveIpc(handlers) {
  process.on('message', async (msg) => {
    try {
      const handler = handlers[msg.cmd]
      if (handler === undefined) throw new Error(`unknown command ${msg.cmd}`)
      process.send({ id: msg.id, ...((await handler(msg)) ?? {}) })
    } catch (err) {
      process.send({ id: msg.id, error: err instanceof Error ? err.message : String(err) })
    }
  })
  process.on('disconnect', () => process.exit(0))
}

/** Resident set size of a process, in KiB (Linux). */
export function rssKb(pid) {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!m) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(m[1])
}

/**
 * Where a process's resident memory is (Linux), in KiB: `rss`, `anon` (heap, stacks, buffers),
 * `file` (mapped files), and of those `binary`: the pages of the node executable itself
 * (shared with every other node process on the machine).
 */
export function memoryKb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
  let binary = 0
  let inBinary = false
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inBinary = line.endsWith(process.execPath)
    else if (inBinary && line.startsWith('Rss:')) binary += Number(line.split(/\s+/)[1])
  }
  return { rss: field('VmRSS'), anon: field('RssAnon'), file: field('RssFile'), binary }
}

/** CPU time (user + system) a process has used so far, in ms (Linux). */
export function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 // clock ticks: 100 per second
}

/**
 * Waits until a process is idle (less than 5% of a CPU over 200 ms) or `capMs` passed;
 * resolves with {ms, cpu_ms}: how long it stayed busy and the CPU time it used meanwhile.
 */
export async function untilIdle(pid, capMs) {
  const t0 = performance.now()
  const c0 = cpuMs(pid)
  let last = c0
  for (;;) {
    await new Promise((r) => setTimeout(r, 200))
    const c = cpuMs(pid)
    const elapsed = performance.now() - t0
    if (c - last < 10 || elapsed >= capMs) return { ms: c - last < 10 ? elapsed - 200 : elapsed, cpu_ms: c - c0 }
    last = c
  }
}

/** A TCP port that was free a moment ago (for servers that cannot listen on port 0, like redis-server). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createNetServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/**
 * Starts a real redis-server (no persistence) on a free port as a child process; resolves
 * with `{url, port, stop}`. Fails with one sentence when redis-server is not installed.
 */
export async function startRedis({ cpu } = {}) {
  let bin
  try {
    bin = execSync('command -v redis-server', { shell: '/bin/sh', stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim()
  } catch {
    throw new Error('redis-server is not installed (Debian: apt-get install -y redis-server)')
  }
  const port = await freePort()
  const argv = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'no',
  ]
  const command = cpu === undefined ? bin : 'taskset'
  const args = cpu === undefined ? argv : ['-c', String(cpu), bin, ...argv]
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(proc)
  proc.on('exit', () => live.delete(proc))
  let out = ''
  proc.stdout.on('data', (d) => (out += d))
  proc.stderr.on('data', (d) => (out += d))
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server not ready:\n${out}`)), 10_000)
    proc.stdout.on('data', () => {
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer)
        resolve()
      }
    })
    proc.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server exited with ${code}:\n${out}`))
    })
  })
  return { url: `redis://127.0.0.1:${port}`, port, pid: proc.pid, stop: () => stopProcess(proc) }
}

/** Writes `text` to a file under bench/results/tmp and returns its path (engine configs). */
export function tmpFile(name, text) {
  const dir = join(root, 'bench/results/tmp')
  mkdirSync(dir, { recursive: true })
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

export function stopProcess(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    proc.once('exit', () => resolve())
    proc.kill('SIGTERM')
    setTimeout(() => proc.kill('SIGKILL'), 2000).unref()
  })
}

export function stopAll() {
  for (const p of live) p.kill('SIGKILL')
}
process.on('exit', stopAll)

/** Starts the engine on ephemeral ports; resolves with its addresses. */
export async function startEngine({ cpu, config, dataDir, manyFiles = false, args: extra = [] } = {}) {
  const args = [
    '--port',
    '0',
    '--api-port',
    '0',
    '--streams-port',
    '0',
    '--data-dir',
    dataDir ?? join(root, 'bench/results/tmp/data'),
    '--log-level',
    'warn',
  ]
  if (config) args.push('--config', config)
  args.push(...extra)
  const p = await startProcess(engineCli, args, { readyText: 'iii engine ready', cpu, manyFiles })
  const addr = (name) => p.output().match(new RegExp(`^\\s+${name}\\s+(\\S+)$`, 'm'))?.[1]
  return { ...p, bridgeUrl: addr('bridge'), apiUrl: addr('api'), streamsUrl: addr('streams') }
}

/** Runs a node script to completion and parses the last line of its stdout as JSON. */
export function runJson(script, args = [], { env = {}, cpu, manyFiles = false } = {}) {
  const { command, args: argv } = nodeCommand([script, ...args], { cpu, manyFiles })
  return new Promise((resolve, reject) => {
    const proc = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: root })
    live.add(proc)
    let out = ''
    let err = ''
    proc.stdout.on('data', (d) => (out += d))
    proc.stderr.on('data', (d) => (err += d))
    proc.on('exit', (code) => {
      live.delete(proc)
      if (code !== 0) return reject(new Error(`${script} ${args.join(' ')} exited with ${code}:\n${err}${out}`))
      const lines = out.trim().split('\n')
      resolve(JSON.parse(lines[lines.length - 1]))
    })
  })
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** Median and spread (min..max) of per-round values. */
export function summarize(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), rounds: values.length }
}

export function machineFacts() {
  const sh = (cmd) => {
    try {
      return execSync(cmd, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim()
    } catch {
      return 'unknown'
    }
  }
  return {
    cores: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    commit: sh('git rev-parse --short HEAD'),
    dirty: sh('git status --porcelain') !== '',
    date: new Date().toISOString(),
  }
}

export const fmt = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a')

/** Prints a closed-loop client's result line: calls, calls/s and latency percentiles (us). */
export function printLatencies(latencies, elapsedSeconds) {
  latencies.sort((a, b) => a - b)
  console.log(
    JSON.stringify({
      calls: latencies.length,
      per_s: latencies.length / elapsedSeconds,
      p50_us: percentile(latencies, 50),
      p99_us: percentile(latencies, 99),
    }),
  )
}
