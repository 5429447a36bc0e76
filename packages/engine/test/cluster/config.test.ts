// The one switch and its overrides, resolved by loadOptions (no processes): --redis, then
// III_REDIS_URL, then redis.url in the file; modules follow it unless they say otherwise.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ConfigError, loadOptions } from '../../src/config.ts'

const file = (yaml: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'iii-cfg-')), 'iii.yaml')
  writeFileSync(path, yaml)
  return path
}

test('without a Redis every store stays embedded (the quick start needs none)', () => {
  const o = loadOptions({}, {})
  assert.equal(o.redis, null)
  assert.equal(o.modules.state?.adapter, 'sqlite')
  assert.equal(o.modules.streams?.adapter, 'sqlite')
  assert.equal(o.modules.event?.adapter, 'sqlite')
})

test('--redis wins over III_REDIS_URL, which wins over redis.url; modules move to redis', () => {
  const config = file('redis:\n  url: redis://file:6379\n  prefix: "app:"\n')
  const env = { III_REDIS_URL: 'redis://env:6379' }
  assert.equal(loadOptions({ config }, {}).redis?.url, 'redis://file:6379')
  assert.equal(loadOptions({ config }, env).redis?.url, 'redis://env:6379')
  const o = loadOptions({ config, redis: 'redis://flag:6379' }, env)
  assert.deepEqual(o.redis, { url: 'redis://flag:6379', prefix: 'app:' })
  assert.deepEqual(o.modules.state?.redis, { url: 'redis://flag:6379', prefix: 'app:' })
  assert.equal(o.modules.streams?.adapter, 'redis')
  assert.equal(o.modules.event?.adapter, 'redis')
})

test('per-module overrides: another adapter, another Redis or prefix', () => {
  const config = file(
    'modules:\n  state:\n    adapter: memory\n  streams:\n    redis:\n      prefix: "chat:"\n  event:\n    adapter: sqlite\n',
  )
  const o = loadOptions({ config, redis: 'redis://main:6379' }, {})
  assert.equal(o.modules.event?.adapter, 'sqlite')
  assert.equal(o.modules.state?.adapter, 'memory')
  assert.equal(o.modules.state?.redis, undefined)
  assert.deepEqual(o.modules.streams?.redis, { url: 'redis://main:6379', prefix: 'chat:' })
  const own = loadOptions(
    { config: file('modules:\n  state:\n    adapter: redis\n    redis:\n      url: redis://own:1\n') },
    {},
  )
  assert.equal(o.redis?.url, 'redis://main:6379')
  assert.equal(own.redis, null, 'a module with its own Redis does not make the engine a cluster member')
  assert.deepEqual(own.modules.state?.redis, { url: 'redis://own:1', prefix: 'iii:' })
})

test('bad Redis settings stop the engine with one sentence naming the key', () => {
  const cases: Array<[Parameters<typeof loadOptions>[0], RegExp]> = [
    [{ redis: 'localhost:6379' }, /redis\.url: must be a redis:\/\/ or rediss:\/\/ URL/],
    [{ config: file('redis:\n  url: redis://x:1\n  prefix: "a{b}"\n') }, /redis\.prefix: may not contain \{ or \}/],
    [
      { config: file('modules:\n  state:\n    adapter: redis\n') },
      /modules\.state\.adapter is redis but no Redis is set/,
    ],
    [
      { config: file('cluster:\n  heartbeat_ms: 1000\n  ttl_ms: 1000\n') },
      /ttl_ms must be at least twice heartbeat_ms/,
    ],
    [{ config: file('redis:\n  url: redis://x:1\n  db: 2\n') }, /unknown key "db" at redis/],
    [
      { config: file('modules:\n  event:\n    adapter: redis\n') },
      /modules\.event\.adapter is redis but no Redis is set/,
    ],
    [{ config: file('modules:\n  event:\n    adapter: bullmq\n') }, /adapter must be "sqlite" or "redis"/],
  ]
  for (const [cli, message] of cases) {
    assert.throws(
      () => loadOptions(cli, {}),
      (err: unknown) => err instanceof ConfigError && message.test(err.message),
      String(message),
    )
  }
})
