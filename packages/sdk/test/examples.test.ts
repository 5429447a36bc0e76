/**
 * The seed's Node examples (examples/node/*.mjs, importing the built `@iii-dev/sdk`) run as
 * separate processes against a real engine; their HTTP routes and stream writes are checked.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { before, describe, test } from 'node:test'
import { type EngineProcess, repoRoot, startEngine, startWorker } from '@iii-dev/testkit'
import { Stream } from '../src/index.ts'
import { connectBridge, fetchRouted, sleep, waitForFunctions } from './helpers.ts'

const example = (name: string) => join(repoRoot, 'examples/node', name)

/** The engine on the seed's fixed bridge port 49134; waits while another test holds the port. */
async function engineOnDefaultPort(t: Parameters<typeof startEngine>[0]): Promise<EngineProcess> {
  const end = Date.now() + 60_000
  for (;;) {
    try {
      return await startEngine(t, { ports: { bridge: 49134 } })
    } catch (err) {
      if (Date.now() > end || !/EADDRINUSE|already in use/.test(String(err))) throw err
      await sleep(500)
    }
  }
}

describe('seed examples (Node)', () => {
  before(() => {
    // the examples import the package, i.e. its dist; make sure it is current
    const res = spawnSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-b', 'packages/sdk'], {
      cwd: repoRoot,
      encoding: 'utf8',
    })
    assert.equal(res.status, 0, res.stdout + res.stderr)
  })

  test('users-api.mjs: POST /users answers 201 with the user', async (t) => {
    const engine = await startEngine(t)
    const worker = startWorker(t, example('users-api.mjs'), { III_BRIDGE_URL: engine.bridgeUrl })
    await worker.waitFor('users-api ready')
    const res = await fetchRouted(`${engine.apiUrl}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Alice' }),
    })
    assert.equal(res.status, 201)
    const user = await res.json()
    assert.equal(user.id, '123')
    // `...data` spreads the ApiRequest, so the request body is the user's `body`
    assert.deepEqual(user.body, { name: 'Alice' })
    assert.equal(user.method, 'POST')
  })

  test('stream-usage.mjs: the item is stored, read back and listed', async (t) => {
    const engine = await startEngine(t)
    const worker = startWorker(t, example('stream-usage.mjs'), { III_BRIDGE_URL: engine.bridgeUrl })
    await worker.waitFor('allItems ')
    const item = JSON.parse(/^item (.*)$/m.exec(worker.output())?.[1] ?? 'null')
    const allItems = JSON.parse(/^allItems (.*)$/m.exec(worker.output())?.[1] ?? 'null')
    assert.equal(item.title, 'Buy milk')
    assert.equal(item.completed, false)
    assert.ok(Array.isArray(allItems) && allItems.some((i: { title: string }) => i.title === 'Buy milk'))
    // and it is really in the engine, seen from another worker
    const bridge = await connectBridge(t, engine.bridgeUrl)
    const stored = await new Stream('todos', bridge).get('inbox', 'item-1')
    assert.equal(stored.title, 'Buy milk')
  })

  test('bridge-basic.mjs: POST /my-endpoint answers success on the default port', async (t) => {
    const engine = await engineOnDefaultPort(t)
    const worker = startWorker(t, example('bridge-basic.mjs'))
    await worker.waitFor('bridge-basic ready')
    const bridge = await connectBridge(t, engine.bridgeUrl)
    await waitForFunctions(bridge, 'service.action')
    const { functions } = await bridge.invokeFunction('engine.functions.list', {})
    const fn = functions.find((f: { function_path: string }) => f.function_path === 'service.action')
    assert.equal(fn.description, 'My custom function')
    const res = await fetchRouted(`${engine.apiUrl}/my-endpoint`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { result: 'success' })
  })
})
