// Shared benchmark helpers: processes, statistics, machine facts, reports.
import { execSync, spawn } from 'node:child_process'
import { cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const engineCli = join(root, 'packages/engine/dist/cli.js')
const live = new Set()

/** Spawns a node script (optionally pinned to CPUs with taskset) and resolves once it printed `readyText`. */
export function startProcess(script, args = [], { env = {}, readyText = 'ready', cpu, timeoutMs = 15_000 } = {}) {
  const nodeArgs = [script, ...args]
  const command = cpu === undefined ? process.execPath : 'taskset'
  const argv = cpu === undefined ? nodeArgs : ['-c', String(cpu), process.execPath, ...nodeArgs]
  const proc = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: root })
  live.add(proc)
  proc.on('exit', () => live.delete(proc))
  let out = ''
  proc.stdout.setEncoding('utf8')
  proc.stderr.setEncoding('utf8')
  proc.stdout.on('data', (d) => (out += d))
  proc.stderr.on('data', (d) => (out += d))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready:\n${out}`)), timeoutMs)
    const check = () => {
      if (!out.includes(readyText)) return
      clearTimeout(timer)
      resolve({ proc, output: () => out, stop: () => stopProcess(proc) })
    }
    proc.stdout.on('data', check)
    proc.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${script} exited with ${code}:\n${out}`))
    })
  })
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
export async function startEngine({ cpu, config } = {}) {
  const args = [
    '--port',
    '0',
    '--api-port',
    '0',
    '--streams-port',
    '0',
    '--data-dir',
    join(root, 'bench/results/tmp/data'),
    '--log-level',
    'warn',
  ]
  if (config) args.push('--config', config)
  const p = await startProcess(engineCli, args, { readyText: 'iii engine ready', cpu })
  const addr = (name) => p.output().match(new RegExp(`^\\s+${name}\\s+(\\S+)$`, 'm'))?.[1]
  return { ...p, bridgeUrl: addr('bridge'), apiUrl: addr('api'), streamsUrl: addr('streams') }
}

/** Runs a node script to completion and parses the last line of its stdout as JSON. */
export function runJson(script, args = [], { env = {}, cpu } = {}) {
  const command = cpu === undefined ? process.execPath : 'taskset'
  const argv = cpu === undefined ? [script, ...args] : ['-c', String(cpu), process.execPath, script, ...args]
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
