// R8: cron across three engines on one redis-server. Every engine has a replica of the worker
// registering the same job; each tick fires exactly once across the cluster, also when the
// engine that claimed the last tick is killed while its handler runs.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { eventually, hasRedis } from '@iii-dev/testkit'
import { Redis } from 'ioredis'
import { sleep } from '../fixtures/streams-helpers.ts'
import { RawClient } from '../raw.ts'
import { startCluster } from './fixtures.ts'

const skip = hasRedis() ? false : 'redis-server is not installed'

test('R8: every tick fires exactly once across three engines, the tick holder killed mid-run', { skip }, async (t) => {
  const { redis, engines } = await startCluster(t)
  const seen = new Map<string, number>()
  for (const [i, engine] of engines.entries()) {
    const w = await RawClient.connect(t, engine.bridgeUrl)
    // The handler takes 700 ms, so the kill below lands while it runs.
    w.register('job.tick', async (d) => {
      seen.set(d.scheduled_time, (seen.get(d.scheduled_time) ?? 0) + 1)
      await sleep(700)
    })
    w.send({
      type: 'registertrigger',
      id: `cron-${i}`,
      trigger_type: 'cron',
      function_path: 'job.tick',
      config: { expression: '* * * * * *' },
    })
  }
  await eventually(() => seen.size >= 2, 8000)

  // The engine that claimed the latest tick, from the claim itself.
  const latest = [...seen.keys()].sort().at(-1) as string
  const job = createHash('sha1').update('job.tick\n* * * * * *\nUTC').digest('hex')
  const client = new Redis(redis.url)
  t.after(() => client.quit())
  const holder = await client.get(`iii:cron:{${job}}:${Date.parse(latest)}`)
  assert.ok(holder, 'the tick was claimed in Redis')
  const victim = engines.find((e) => e.output().includes(`joined as engine ${holder}`))
  assert.ok(victim, `no engine is ${holder}`)
  await victim.kill()
  const killedAt = Date.now()

  await sleep(3500)
  const times = [...seen.keys()].map((s) => Date.parse(s)).sort((a, b) => a - b)
  for (const [time, count] of seen) assert.equal(count, 1, `${time} fired ${count} times`)
  for (let i = 1; i < times.length; i++) {
    assert.equal(times[i] - times[i - 1], 1000, `a tick is missing after ${new Date(times[i - 1]).toISOString()}`)
  }
  assert.ok(times.filter((x) => x > killedAt).length >= 3, 'ticks went on after the holder was killed')
})
