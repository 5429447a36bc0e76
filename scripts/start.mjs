// `npm start`: the engine with the example app. Starts the `iii` engine (embedded store in
// ./data, default ports unless flags say otherwise), waits until it is ready, then starts the
// example app's workers against it. Ctrl-C stops everything. Flags are passed to the engine.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const app = process.env.III_EXAMPLE ?? join(root, 'examples/quickstart/app.mjs')
const children = []

const engine = spawn(process.execPath, [join(root, 'packages/engine/bin/iii.js'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
})
children.push(engine)
let out = ''
engine.stdout.setEncoding('utf8')
engine.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  if (out === null) return
  out += chunk
  if (!out.includes('iii engine ready')) return
  const bridge = out.match(/^\s+bridge\s+(\S+)$/m)?.[1]
  const api = out.match(/^\s+api\s+(\S+)$/m)?.[1]
  out = null
  const worker = spawn(process.execPath, [app], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, III_BRIDGE_URL: bridge, III_API_URL: api ?? '' },
  })
  children.push(worker)
  worker.on('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`example app exited with ${code}`)
  })
})
engine.on('exit', (code) => {
  for (const c of children) if (c !== engine && c.exitCode === null) c.kill('SIGTERM')
  process.exit(code ?? 0)
})
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const c of children.slice().reverse()) if (c.exitCode === null) c.kill('SIGTERM')
  })
}
