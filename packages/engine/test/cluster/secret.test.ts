// The cluster's peer socket runs relayed calls on this engine's workers, so it is closed like
// the bridge: only a connection with the cluster's secret gets in. Without `cluster.secret` the
// engines share one random secret kept in Redis; with III_CLUSTER_SECRET they use that one.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually, hasRedis } from '@iii-dev/testkit'
import { Redis } from 'ioredis'
import WebSocket from 'ws'
import { RawBridge } from '../fixtures/streams-helpers.ts'
import { startCluster } from './fixtures.ts'

const skip = hasRedis() ? false : 'redis-server is not installed'

/** The HTTP status of an upgrade to `url`, or 101 when the socket opened. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers })
    ws.once('open', () => {
      ws.terminate()
      resolve(101)
    })
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      ws.terminate()
    })
    ws.once('error', (err) => reject(err))
  })
}

async function relayWorks(
  t: Parameters<typeof startCluster>[0],
  engines: Awaited<ReturnType<typeof startCluster>>['engines'],
) {
  const [a, b] = engines
  const worker = await RawBridge.connect(b.bridgeUrl, t)
  worker.registerFunction('sec.echo', (d) => ({ on: 'b', d }))
  await worker.ready('sec.echo')
  const caller = await RawBridge.connect(a.bridgeUrl, t)
  await eventually(async () => {
    const fns = (await caller.call('engine.functions.list')).functions as Array<{ function_path: string }>
    return fns.some((f) => f.function_path === 'sec.echo')
  })
  assert.deepEqual(await caller.call('sec.echo', 1), { on: 'b', d: 1 })
}

test('a plain WebSocket client without the secret is refused on the peer socket; the engines still relay', {
  skip,
}, async (t) => {
  const { redis, engines } = await startCluster(t, 2)
  const peerUrl = engines[1].ready.cluster as string
  assert.match(peerUrl, /^ws:\/\//)
  assert.equal(await upgradeStatus(peerUrl), 401)
  assert.equal(await upgradeStatus(peerUrl, { authorization: 'Bearer not-the-secret-at-all' }), 401)
  await relayWorks(t, engines)
  // the generated secret is in Redis (anyone who can read it is trusted) and it opens the socket
  const client = new Redis(redis.url)
  t.after(() => client.disconnect())
  const secret = await client.get('iii:cluster:secret')
  assert.ok(typeof secret === 'string' && secret.length >= 32, `secret in redis: ${secret}`)
  assert.equal(await upgradeStatus(peerUrl, { authorization: `Bearer ${secret}` }), 101)
})

test('III_CLUSTER_SECRET: the engines use it and a client with it is let in', { skip }, async (t) => {
  const secret = 'a-configured-cluster-secret'
  const { engines } = await startCluster(t, 2, { env: { III_CLUSTER_SECRET: secret } })
  const peerUrl = engines[0].ready.cluster as string
  assert.equal(await upgradeStatus(peerUrl), 401)
  assert.equal(await upgradeStatus(peerUrl, { authorization: `Bearer ${secret}` }), 101)
  await relayWorks(t, engines)
})
