/**
 * Installable outside the repository (Node): `scripts/pack.mjs` packs every Node package (the
 * motia tarball carrying both Python wheels); a fresh folder in the system temp directory
 * installs the tarballs (`npm install <tarballs>`) and runs, from there, the engine
 * (`npx iii`), a Node worker and a Motia app (`npx motia start`); SIGTERM to the `npx iii`
 * process, as a supervisor sends it, stops the engine; and the installed `motia create
 * --python` vendors the packed packages and wheels. install-python.test.ts installs the wheels
 * in a fresh venv; create.test.ts runs the READMEs of created projects.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { eventually } from '@iii-dev/testkit'
import { freePort, http, listening, prebuiltSqliteEnv, processesWith, repoRoot, run, start } from './lib.ts'

const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'iii-install-node-')))
after(() => rmSync(tmp, { recursive: true, force: true }))
const app = join(tmp, 'app')

test('the packed Node packages install outside the repository and run the engine, a worker and a Motia app', async (t) => {
  assert.ok(!tmp.startsWith(repoRoot), `${tmp} is outside the repository`)
  const out = await run(process.execPath, [join(repoRoot, 'scripts/pack.mjs'), '--out', join(tmp, 'dist')], {
    cwd: repoRoot,
  })
  const packed = JSON.parse(out.trim().split('\n').at(-1) as string) as { tarballs: string[]; wheels: string[] }
  const names = packed.tarballs.map((p) => p.split('/').at(-1) as string)
  for (const n of ['iii-dev-protocol', 'iii-dev-engine', 'iii-dev-sdk', 'iii-dev-stream-client', 'motia']) {
    assert.ok(
      names.some((f) => f.startsWith(`${n}-`)),
      `${n} tarball in ${names}`,
    )
  }

  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'outside', private: true, type: 'module' }))
  await run('npm', ['install', ...packed.tarballs], {
    cwd: app,
    env: { ...prebuiltSqliteEnv(join(tmp, 'prebuilds')), npm_config_prefer_offline: 'true', npm_config_audit: 'false' },
  })
  const motiaPkg = JSON.parse(readFileSync(join(app, 'node_modules/motia/package.json'), 'utf8'))
  for (const spec of Object.values(motiaPkg.dependencies)) {
    assert.doesNotMatch(String(spec), /^(file|link|workspace):/, 'motia depends on versions')
  }
  // `npx iii` and `npx motia` are ours, from this folder's node_modules
  assert.equal(realpathSync(join(app, 'node_modules/.bin/iii')), join(app, 'node_modules/@iii-dev/engine/bin/iii.js'))
  assert.equal(realpathSync(join(app, 'node_modules/.bin/motia')), join(app, 'node_modules/motia/bin/motia.js'))

  const p = { bridge: await freePort(), api: await freePort(), streams: await freePort() }
  const dataDir = join(app, 'engine-data')
  const flags = ['--port', `${p.bridge}`, '--api-port', `${p.api}`, '--streams-port', `${p.streams}`]
  const engine = start(t, 'npx', ['iii', ...flags, '--data-dir', dataDir], { cwd: app })
  await engine.waitFor('iii engine ready')
  const api = `http://127.0.0.1:${p.api}`
  const env = { III_BRIDGE_URL: `ws://127.0.0.1:${p.bridge}` }

  // a Node worker
  writeFileSync(
    join(app, 'worker.mjs'),
    `import { createBridge } from '@iii-dev/sdk'
const bridge = createBridge()
bridge.registerFunction({ function_path: 'users.create', handler: async (data) => ({ status: 201, body: { id: '123', ...data.body } }) })
bridge.registerTrigger({ trigger_type: 'api', function_path: 'users.create', config: { api_path: '/users', http_method: 'POST' } })
await bridge.connect()
console.log('worker ready')
`,
  )
  const worker = start(t, process.execPath, ['worker.mjs'], { cwd: app, env })
  await worker.waitFor('worker ready')
  assert.deepEqual(await http(api, 'POST', '/users', { name: 'Ada' }), {
    status: 201,
    body: { id: '123', name: 'Ada' },
  })

  // a Motia app
  mkdirSync(join(app, 'motia-app/steps'), { recursive: true })
  writeFileSync(
    join(app, 'motia-app/steps/hello.step.ts'),
    `import { z } from 'zod'
export const config = { name: 'Hello', triggers: [{ type: 'api', path: '/hello', method: 'POST', bodySchema: z.object({ name: z.string() }) }] }
export const handler = async (req: { body: { name: string } }) => ({ status: 200, body: { hello: req.body.name } })
`,
  )
  const motia = start(t, 'npx', ['motia', 'start', 'motia-app'], { cwd: app, env })
  await motia.waitFor('[motia] ready: 1 step(s)')
  assert.deepEqual(await http(api, 'POST', '/hello', { name: 'Ada' }), { status: 200, body: { hello: 'Ada' } })
  assert.equal((await http(api, 'POST', '/hello', {})).status, 400)

  // SIGTERM to the `npx iii` process only (as a supervisor sends it): the engine stops too
  assert.ok(processesWith(dataDir).length >= 1, 'the engine runs under npx')
  process.kill(engine.proc.pid as number, 'SIGTERM')
  await eventually(async () => !(await listening(p.bridge)) && !(await listening(p.api)), 5000)
  await eventually(() => processesWith(dataDir).length === 0, 5000)

  // the installed motia creates a Python project with the packed packages and wheels vendored
  await run(join(app, 'node_modules/.bin/motia'), ['create', 'py-app', '--python', '--skip-install'], { cwd: app })
  const pkg = JSON.parse(readFileSync(join(app, 'py-app/package.json'), 'utf8'))
  assert.equal(pkg.dependencies['@iii-dev/engine'], 'file:vendor/iii-dev-engine-0.1.0.tgz')
  const req = readFileSync(join(app, 'py-app/requirements.txt'), 'utf8')
  for (const w of packed.wheels) {
    const name = w.split('/').at(-1) as string
    assert.ok(req.includes(`./vendor/${name}`), `${name} in requirements.txt`)
    assert.deepEqual(readFileSync(join(app, 'py-app/vendor', name)), readFileSync(w), `${name} is the packed wheel`)
  }
})
