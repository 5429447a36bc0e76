// A Node SDK worker on engine A and a Python SDK worker on engine B, each a real process, call
// each other's functions through the cluster.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createBridge } from '@iii-dev/sdk'
import { eventually, hasRedis, startWorker } from '@iii-dev/testkit'
import { startCluster } from './fixtures.ts'

const skip = hasRedis() ? false : 'redis-server is not installed'
const pyWorker = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures/py-worker.py')

test('Node on engine A and Python on engine B call each other', { skip }, async (t) => {
  const { engines } = await startCluster(t, 2)
  const [a, b] = engines
  const py = startWorker(t, pyWorker, { III_BRIDGE_URL: b.bridgeUrl })
  await py.waitFor('py worker ready', 20_000)
  const node = createBridge({ url: a.bridgeUrl, workerName: 'node-cluster', forwardLogs: false, logLevel: 'warn' })
  t.after(() => node.close())
  node.registerFunction({ function_path: 'node.greet', handler: (d: { name: string }) => `hello ${d.name}` })
  await node.connect()
  const result = await eventually(async () => {
    try {
      return await node.invokeFunction('py.double', { n: 21 })
    } catch {
      return undefined
    }
  }, 8000)
  assert.deepEqual(result, { doubled: 42 })
  const greeting = await eventually(async () => {
    try {
      return await node.invokeFunction('py.viaNode', { name: 'ann' })
    } catch {
      return undefined
    }
  }, 8000)
  assert.equal(greeting, 'hello ann')
})
