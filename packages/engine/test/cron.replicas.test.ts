// A cron job is (function_path, expression, timezone): replicas of a worker that register the
// same job on one engine (embedded store, no Redis) share each tick instead of each firing it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startEngine } from '@iii-dev/testkit'
import { sleep } from './fixtures/streams-helpers.ts'
import { RawClient } from './raw.ts'

test('two replicas registering the same cron job on one engine fire it once per tick', async (t) => {
  const engine = await startEngine(t)
  const seen = new Map<string, number>()
  const other: string[] = []
  for (const name of ['r1', 'r2']) {
    const w = await RawClient.connect(t, engine.bridgeUrl)
    w.register('job.tick', (d) => void seen.set(d.scheduled_time, (seen.get(d.scheduled_time) ?? 0) + 1))
    w.register('job.other', (d) => void other.push(d.scheduled_time))
    w.send({
      type: 'registertrigger',
      id: `cron-${name}`,
      trigger_type: 'cron',
      function_path: 'job.tick',
      config: { expression: name === 'r1' ? '* * * * * *' : ' *  * * * * * ' },
    })
  }
  // Same function and expression, another time zone: another job.
  const w = await RawClient.connect(t, engine.bridgeUrl)
  w.send({
    type: 'registertrigger',
    id: 'cron-tz',
    trigger_type: 'cron',
    function_path: 'job.other',
    config: { expression: '* * * * * *', timezone: 'Europe/Paris' },
  })
  await sleep(3300)
  assert.ok(seen.size >= 3, `only ${seen.size} ticks`)
  for (const [time, count] of seen) assert.equal(count, 1, `${time} fired ${count} times`)
  assert.ok(other.length >= 3, 'the job in another time zone fires on its own')
})
