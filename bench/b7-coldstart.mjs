// B7: cold start, from spawn() to a line on stdout: `node -e 0` (to its exit), a Fastify
// hello's `listen`, the engine's "iii engine ready", and a worker that connects to a running
// engine, registers a function and serves a first call through it. Each is repeated several
// times per round, in alternating order; a round's value is the median of its repetitions.
// Then idle memory: the RSS of a fresh engine, a raw `ws` server and an idle `node`, each read
// one second after it is ready.
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import {
  engineCli,
  median,
  memoryKb,
  nodeCommand,
  root,
  startEngine,
  startProcess,
  stopProcess,
  summarize,
} from './lib.mjs'

/** Spawns node with `args` and resolves with the ms until `readyText` (or the exit) showed. */
function timeTo(args, { readyText, cpu, env = {} }) {
  const { command, args: argv } = nodeCommand(args, { cpu })
  const t0 = performance.now()
  const proc = spawn(command, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`B7: ${args.join(' ')} not ready in 20 s:\n${out}`))
    }, 20_000)
    const done = async () => {
      const ms = performance.now() - t0
      clearTimeout(timer)
      await stopProcess(proc)
      resolve(ms)
    }
    proc.stdout.on('data', (d) => {
      out += d
      if (readyText && out.includes(readyText)) done()
    })
    proc.stderr.on('data', (d) => (out += d))
    proc.on('exit', (code) => {
      if (readyText === undefined && code === 0) return done()
      clearTimeout(timer)
      if (!out.includes(readyText ?? '\0')) reject(new Error(`B7: ${args.join(' ')} exited with ${code}:\n${out}`))
    })
  })
}

export async function b7({ rounds, smoke, pin }) {
  const cpu = pin ? 0 : undefined
  const reps = smoke ? 3 : 10
  const dataDir = join(root, `bench/results/tmp/data-b7-${process.pid}`)
  const engine = await startEngine({ cpu, dataDir: join(dataDir, 'running') })
  const kinds = {
    'node -e 0': () => timeTo(['-e', '0'], { cpu }),
    'fastify listen': () => timeTo([join(root, 'bench/servers/fastify-hello.mjs')], { readyText: 'ready', cpu }),
    'engine ready': () =>
      timeTo(
        [
          engineCli,
          '--port',
          '0',
          '--api-port',
          '0',
          '--streams-port',
          '0',
          '--data-dir',
          join(dataDir, 'cold'),
          '--log-level',
          'warn',
        ],
        { readyText: 'iii engine ready', cpu },
      ),
    'worker connected + first invoke served': () =>
      timeTo([join(root, 'bench/servers/cold-worker.mjs')], {
        readyText: 'served',
        cpu,
        env: { III_BRIDGE_URL: engine.bridgeUrl },
      }),
  }
  const samples = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]))
  const memory = []
  try {
    for (let round = 0; round < rounds; round++) {
      const times = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]))
      for (let rep = 0; rep < reps; rep++) {
        const order = Object.keys(kinds)
        if ((round * reps + rep) % 2 === 1) order.reverse()
        for (const k of order) times[k].push(await kinds[k]())
      }
      for (const k of Object.keys(kinds)) samples[k].push(median(times[k]))
    }
    memory.push(...(await idleMemory(cpu, join(dataDir, 'idle'))))
  } finally {
    await engine.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
  const rows = Object.entries(samples).map(([what, v]) => ({ what, repetitions: reps, ms: summarize(v) }))
  const ms = (what) => rows.find((r) => r.what === what).ms.median
  const ratio = ms('engine ready') / ms('fastify listen')
  const vsNode = ms('engine ready') / ms('node -e 0')
  const mb = (what) => memory.find((m) => m.what === what).rss_mb
  const targets = [
    { name: 'engine ready vs Fastify listen', ratio, target: '<= 1.5', met: ratio <= 1.5 },
    { name: 'engine ready vs node -e 0', ratio: vsNode, target: '<= 2.0', met: vsNode <= 2.0 },
    { name: 'engine idle RSS (MB, absolute)', ratio: mb('engine'), target: '<= 50', met: mb('engine') <= 50 },
    {
      name: 'engine idle RSS vs raw ws server',
      ratio: mb('engine') / mb('raw ws server'),
      target: '(reference)',
      met: null,
    },
    {
      name: 'worker connected + first invoke served vs Fastify listen',
      ratio: ms('worker connected + first invoke served') / ms('fastify listen'),
      target: '(reference)',
      met: null,
    },
  ]
  return {
    id: 'B7',
    title: 'cold start',
    rows,
    targets,
    tables: [{ rows }, { title: 'Idle memory, one second after ready', rows: memory }],
  }
}

/**
 * The RSS of a fresh engine, a raw `ws` server and an idle `node`, one second after each is
 * ready, split into anonymous and file-backed pages (and of those, the node executable's).
 */
async function idleMemory(cpu, dataDir) {
  const procs = {
    engine: await startEngine({ cpu, dataDir }),
    'raw ws server': await startProcess(join(root, 'bench/servers/ws-echo.mjs'), [], { cpu }),
    'node (idle)': await startProcess('-e', ["console.log('ready'); setInterval(() => {}, 1e6)"], { cpu }),
  }
  try {
    await new Promise((r) => setTimeout(r, 1000))
    return Object.entries(procs).map(([what, p]) => {
      const m = memoryKb(p.pid)
      return {
        what,
        rss_mb: m.rss / 1024,
        anon_mb: m.anon / 1024,
        file_mb: m.file / 1024,
        node_binary_mb: m.binary / 1024,
      }
    })
  } finally {
    for (const p of Object.values(procs)) await p.stop()
  }
}
