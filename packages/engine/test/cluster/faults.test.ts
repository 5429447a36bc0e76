// R24 (Redis part): three engines on one redis-server with AOF on, under a steady load of
// increments through all three. Redis is killed and started again: meanwhile calls fail fast
// with `store_unavailable` (never hang), the engines stay up, everything resumes when Redis is
// back, and no acknowledged increment is lost.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually, hasRedis, startEngine, startRedis } from '@iii-dev/testkit'
import { CallError, RawBridge, sleep } from '../fixtures/streams-helpers.ts'
import { startCluster } from './fixtures.ts'

const skip = hasRedis() ? false : 'redis-server is not installed'

test('Redis restarted under load: fast store_unavailable, then resume, nothing acknowledged lost', {
  skip,
}, async (t) => {
  const { redis, engines } = await startCluster(t, 3, { aof: true })
  const clients = await Promise.all(engines.map((e) => RawBridge.connect(e.bridgeUrl, t)))
  const inc = { group_id: 'load', item_id: 'n', ops: [{ type: 'increment', path: 'n', by: 1 }] }
  let acked = 0
  let unavailable = 0
  let slowest = 0
  let running = true
  const lane = async (c: RawBridge) => {
    while (running) {
      const started = Date.now()
      try {
        await c.call('state.update', inc)
        acked++
      } catch (err) {
        assert.ok(err instanceof CallError, String(err))
        assert.equal(err.code, 'store_unavailable', err.message)
        unavailable++
        await sleep(20)
      }
      slowest = Math.max(slowest, Date.now() - started)
    }
  }
  const lanes = clients.flatMap((c) => [lane(c), lane(c)])
  await eventually(() => acked >= 200, 10_000)

  await redis.kill()
  const down = Date.now()
  await eventually(() => unavailable >= 10, 3000)
  await sleep(500)
  const ackedWhileDown = acked
  await redis.restart()
  const up = Date.now()
  await eventually(() => acked > ackedWhileDown + 100, 8000)
  running = false
  await Promise.all(lanes)

  assert.ok(slowest < 3500, `a call took ${slowest} ms (commands time out after 3 s)`)
  assert.ok(up - down > 400, 'Redis was away for a while')
  for (const e of engines) assert.equal(e.proc.exitCode, null, 'every engine stayed up')
  const stored = (await clients[0].call('state.get', { group_id: 'load', item_id: 'n' })) as { n: number }
  // Each acknowledged increment is stored; a call that failed while Redis died may or may not be.
  assert.ok(stored.n >= acked, `stored ${stored.n} < acknowledged ${acked}`)
  assert.ok(stored.n <= acked + 6, `stored ${stored.n}, acknowledged ${acked}: more than the calls in flight`)
})

test('an engine whose Redis is down at start starts anyway, fails fast, and works once Redis is up', {
  skip,
}, async (t) => {
  const redis = await startRedis(t, { aof: true })
  await redis.kill()
  const engine = await startEngine(t, { args: ['--redis', redis.url] })
  const c = await RawBridge.connect(engine.bridgeUrl, t)
  const started = Date.now()
  const err = await c.callError('state.set', { group_id: 'g', item_id: 'i', data: 1 })
  assert.equal(err.code, 'store_unavailable')
  assert.ok(Date.now() - started < 3500, `took ${Date.now() - started} ms`)
  assert.match(engine.output(), /is not reachable yet/)
  await redis.restart()
  await eventually(async () => {
    try {
      await c.call('state.set', { group_id: 'g', item_id: 'i', data: 1 })
      return true
    } catch {
      return false
    }
  }, 8000)
  assert.equal(await c.call('state.get', { group_id: 'g', item_id: 'i' }), 1)
})
