// One contract suite for every KvAdapter, run against the memory adapter, the sqlite adapter
// on a real temporary database file and the redis adapter on a real redis-server started here.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { hasRedis, startRedis } from '@iii-dev/testkit'
import { IIIError } from '../src/errors.ts'
import { applyOps, type KvAdapter, MemoryAdapter, parseOps, SqliteAdapter } from '../src/modules/store/index.ts'
import { RedisAdapter } from '../src/modules/store/redis.ts'

const MAX = 4096
const tmp = mkdtempSync(join(tmpdir(), 'iii-store-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
let n = 0
const redis = hasRedis() ? await startRedis(null) : null
after(() => redis?.stop())

const implementations: Array<{ name: string; make: () => KvAdapter; reopen?: (a: KvAdapter) => KvAdapter }> = [
  { name: 'memory', make: () => new MemoryAdapter({ maxValueBytes: MAX }) },
  {
    name: 'sqlite',
    make: () => new SqliteAdapter({ maxValueBytes: MAX, file: join(tmp, `db-${++n}`, 'state.db') }),
  },
  {
    name: 'redis',
    // Each test gets its own key prefix on the one server, so tests start from an empty store.
    make: () => new RedisAdapter({ maxValueBytes: MAX, url: redis?.url ?? '', prefix: `t${++n}:`, namespace: 'state' }),
  },
]

const coded = (code: string) => (err: unknown) => err instanceof IIIError && err.code === code

for (const impl of implementations) {
  const skip = impl.name === 'redis' && !redis ? 'redis-server is not installed' : false
  describe(`KvAdapter contract: ${impl.name}`, { skip }, () => {
    const open = (t: { after(fn: () => unknown): void }) => {
      const a = impl.make()
      t.after(() => a.close())
      return a
    }

    test('a missing item reads as null; set returns old and new values', async (t) => {
      const a = open(t)
      assert.equal(await a.get('s', 'g', 'i'), null)
      assert.deepEqual(await a.set('s', 'g', 'i', { n: 1 }), { old_value: null, new_value: { n: 1 } })
      assert.deepEqual(await a.set('s', 'g', 'i', { n: 2 }), { old_value: { n: 1 }, new_value: { n: 2 } })
      assert.deepEqual(await a.get('s', 'g', 'i'), { n: 2 })
    })

    test('JSON values of every kind round-trip unchanged', async (t) => {
      const a = open(t)
      const values = [
        0,
        -1.5,
        'text with "quotes" and ünïcödé 🚀',
        true,
        false,
        [1, [2, { x: null }]],
        { a: { b: [] } },
        '',
      ]
      for (const [i, v] of values.entries()) await a.set('s', 'g', `k${i}`, v)
      for (const [i, v] of values.entries()) assert.deepEqual(await a.get('s', 'g', `k${i}`), v)
    })

    test('a stored value is a copy: changing what was passed or returned changes nothing', async (t) => {
      const a = open(t)
      const v = { list: [1] }
      await a.set('s', 'g', 'i', v)
      v.list.push(2)
      const got = (await a.get('s', 'g', 'i')) as { list: number[] }
      got.list.push(3)
      assert.deepEqual(await a.get('s', 'g', 'i'), { list: [1] })
    })

    test('scopes and groups are separate', async (t) => {
      const a = open(t)
      await a.set('s1', 'g', 'i', 1)
      await a.set('s2', 'g', 'i', 2)
      await a.set('s1', 'h', 'i', 3)
      assert.equal(await a.get('s1', 'g', 'i'), 1)
      assert.equal(await a.get('s2', 'g', 'i'), 2)
      assert.equal(await a.get('s1', 'h', 'i'), 3)
      assert.deepEqual(await a.listGroups('s1'), ['g', 'h'])
      assert.deepEqual(await a.listGroups('s2'), ['g'])
      assert.deepEqual(await a.listGroups('nope'), [])
    })

    test('listScopes lists the scopes holding items, in code point order, and drops emptied ones', async (t) => {
      const a = open(t)
      assert.deepEqual(await a.listScopes?.(), [])
      for (const s of ['todos', 'b*[x]', '\u{1F600}', 'a:b']) await a.set(s, 'g', 'i', 1)
      await a.set('todos', 'h', 'i', 2)
      assert.deepEqual(await a.listScopes?.(), ['a:b', 'b*[x]', 'todos', '\u{1F600}'])
      await a.delete('a:b', 'g', 'i')
      await a.clear('b*[x]', 'g')
      await a.delete('todos', 'g', 'i')
      assert.deepEqual(await a.listScopes?.(), ['todos', '\u{1F600}'])
    })

    test('getGroup orders by item id (code points) and listGroups by group id', async (t) => {
      const a = open(t)
      for (const id of ['b', 'a', 'c', '\u{1F600}', '\uE000', 'B']) await a.set('s', 'g', id, { id })
      await a.set('s', 'z', 'x', 1)
      await a.set('s', 'a', 'x', 1)
      assert.deepEqual(
        ((await a.getGroup('s', 'g')) as Array<{ id: string }>).map((v) => v.id),
        ['B', 'a', 'b', 'c', '\uE000', '\u{1F600}'],
      )
      assert.deepEqual(await a.listGroups('s'), ['a', 'g', 'z'])
      assert.deepEqual(await a.getGroup('s', 'missing'), [])
    })

    test('getGroupEntries pairs each value with its item id, in getGroup order', async (t) => {
      const a = open(t)
      assert.ok(a.getGroupEntries, 'every adapter offers getGroupEntries (the stream socket sync needs ids)')
      for (const id of ['b', 'a', '\u{1F600}']) await a.set('s', 'g', id, { n: id.length })
      assert.deepEqual(await a.getGroupEntries('s', 'g'), [
        { item_id: 'a', value: { n: 1 } },
        { item_id: 'b', value: { n: 1 } },
        { item_id: '\u{1F600}', value: { n: 2 } },
      ])
      assert.deepEqual(await a.getGroupEntries('s', 'missing'), [])
    })

    test('delete returns the old value; a group with no items disappears', async (t) => {
      const a = open(t)
      await a.set('s', 'g', 'i', 'v')
      assert.equal(await a.delete('s', 'g', 'i'), 'v')
      assert.equal(await a.delete('s', 'g', 'i'), null)
      assert.equal(await a.get('s', 'g', 'i'), null)
      assert.deepEqual(await a.listGroups('s'), [])
    })

    test('clear removes one group and returns what it held', async (t) => {
      const a = open(t)
      await a.set('s', 'g', 'b', 2)
      await a.set('s', 'g', 'a', 1)
      await a.set('s', 'h', 'a', 3)
      assert.deepEqual(await a.clear('s', 'g'), [
        { item_id: 'a', value: 1 },
        { item_id: 'b', value: 2 },
      ])
      assert.deepEqual(await a.getGroup('s', 'g'), [])
      assert.deepEqual(await a.listGroups('s'), ['h'])
      assert.deepEqual(await a.clear('s', 'g'), [])
    })

    test('update applies every op kind in order and returns old and new', async (t) => {
      const a = open(t)
      await a.set('s', 'g', 'i', { name: 'x', stats: { views: 1 }, tags: ['a'] })
      const r = await a.update(
        's',
        'g',
        'i',
        parseOps(
          [
            { type: 'increment', path: 'stats.views', by: 5 },
            { type: 'decrement', path: ['stats', 'likes'], by: 2 },
            { type: 'set', path: 'owner.name', value: 'ann' },
            { type: 'merge', value: { done: true } },
            { type: 'merge', path: 'stats', value: { shares: 0 } },
            { type: 'set', path: 'tags.1', value: 'b' },
            { type: 'remove', path: 'name' },
          ],
          'test',
        ),
      )
      const expected = {
        stats: { views: 6, likes: -2, shares: 0 },
        tags: ['a', 'b'],
        owner: { name: 'ann' },
        done: true,
      }
      assert.deepEqual(r.old_value, { name: 'x', stats: { views: 1 }, tags: ['a'] })
      assert.deepEqual(r.new_value, expected)
      assert.deepEqual(await a.get('s', 'g', 'i'), expected)
    })

    test('update of a missing item starts from null; a root increment makes a number', async (t) => {
      const a = open(t)
      assert.deepEqual(await a.update('s', 'g', 'n', [{ type: 'increment', path: '', by: 3 }]), {
        old_value: null,
        new_value: 3,
      })
      assert.deepEqual(await a.update('s', 'g', 'o', [{ type: 'set', path: 'a.b', value: 1 }]), {
        old_value: null,
        new_value: { a: { b: 1 } },
      })
    })

    test('an update whose result is null deletes the item', async (t) => {
      const a = open(t)
      await a.set('s', 'g', 'i', 1)
      assert.deepEqual(await a.update('s', 'g', 'i', [{ type: 'set', path: '', value: null }]), {
        old_value: 1,
        new_value: null,
      })
      assert.equal(await a.get('s', 'g', 'i'), null)
      assert.deepEqual(await a.listGroups('s'), [])
    })

    test('a failing op leaves the item exactly as it was (nothing half-written)', async (t) => {
      const a = open(t)
      await a.set('s', 'g', 'i', { count: 1, label: 'x' })
      await assert.rejects(
        a.update('s', 'g', 'i', [
          { type: 'increment', path: 'count', by: 1 },
          { type: 'increment', path: 'label', by: 1 },
        ]),
        coded('invalid_argument'),
      )
      await assert.rejects(
        a.update('s', 'g', 'i', [{ type: 'set', path: 'label.deep', value: 1 }]),
        coded('invalid_argument'),
      )
      await assert.rejects(
        a.update('s', 'g', 'i', [{ type: 'merge', path: 'count', value: { a: 1 } }]),
        coded('invalid_argument'),
      )
      assert.deepEqual(await a.get('s', 'g', 'i'), { count: 1, label: 'x' })
    })

    test('a finish function that throws refuses the update', async (t) => {
      const a = open(t)
      await a.set('s', 'g', 'i', { v: 1 })
      await assert.rejects(
        a.update('s', 'g', 'i', [{ type: 'set', path: 'v', value: 2 }], () => {
          throw new IIIError('invalid_argument', 'no')
        }),
        coded('invalid_argument'),
      )
      assert.deepEqual(await a.get('s', 'g', 'i'), { v: 1 })
      const r = await a.update('s', 'g', 'i', [{ type: 'remove', path: 'v' }], (v) => ({ ...(v as object), id: 'i' }))
      assert.deepEqual(r.new_value, { id: 'i' })
    })

    test('values over maxValueBytes are refused by set and update, and nothing is written', async (t) => {
      const a = open(t)
      await a.set('s', 'g', 'i', { text: 'small' })
      await assert.rejects(a.set('s', 'g', 'i', { text: 'x'.repeat(MAX) }), coded('payload_too_large'))
      await assert.rejects(a.set('s', 'g', 'new', 'é'.repeat(MAX / 2)), coded('payload_too_large'))
      await assert.rejects(
        a.update('s', 'g', 'i', [{ type: 'set', path: 'text', value: 'y'.repeat(MAX) }]),
        coded('payload_too_large'),
      )
      assert.deepEqual(await a.get('s', 'g', 'i'), { text: 'small' })
      assert.equal(await a.get('s', 'g', 'new'), null)
      // exactly at the limit is fine: '"' + 4094 chars + '"' = 4096 bytes
      await a.set('s', 'g', 'edge', 'z'.repeat(MAX - 2))
    })

    test('64 concurrent increments of one key end exact', async (t) => {
      const a = open(t)
      const inc = { type: 'increment' as const, path: 'count', by: 1 }
      const results = await Promise.all(Array.from({ length: 64 }, () => a.update('s', 'g', 'counter', [inc])))
      assert.deepEqual(await a.get('s', 'g', 'counter'), { count: 64 })
      const seen = results.map((r) => (r.new_value as { count: number }).count).sort((x, y) => x - y)
      assert.deepEqual(
        seen,
        Array.from({ length: 64 }, (_, i) => i + 1),
      )
    })

    test('__proto__ never reaches a prototype', async (t) => {
      const a = open(t)
      await assert.rejects(
        a.update('s', 'g', 'i', [{ type: 'set', path: '__proto__.x', value: 1 }]),
        coded('invalid_argument'),
      )
      const evil = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}')
      const r = await a.update('s', 'g', 'i', [{ type: 'merge', value: evil }])
      assert.equal(({} as Record<string, unknown>).polluted, undefined)
      assert.equal(Object.getPrototypeOf(r.new_value), Object.prototype)
      const stored = (await a.get('s', 'g', 'i')) as Record<string, unknown>
      assert.equal(stored.ok, 1)
      assert.equal(({} as Record<string, unknown>).polluted, undefined)
    })

    test('writes issued together: a refused one fails alone, the others are stored in order', async (t) => {
      const a = open(t)
      await a.set('s', 'g', 'str', 'text')
      // All issued in one turn (one group-commit batch for sqlite).
      const results = await Promise.allSettled([
        a.set('s', 'g', 'a', { n: 1 }),
        a.update('s', 'g', 'str', [{ type: 'increment', path: '', by: 1 }]),
        a.set('s', 'g', 'big', 'x'.repeat(MAX + 1)),
        a.update('s', 'g', 'a', [{ type: 'increment', path: 'n', by: 1 }]),
        a.delete('s', 'g', 'missing'),
        a.update('s', 'g', 'a', [{ type: 'increment', path: 'n', by: 10 }]),
      ])
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'],
      )
      assert.ok(coded('invalid_argument')((results[1] as PromiseRejectedResult).reason))
      assert.ok(coded('payload_too_large')((results[2] as PromiseRejectedResult).reason))
      assert.deepEqual((results[5] as PromiseFulfilledResult<unknown>).value, {
        old_value: { n: 2 },
        new_value: { n: 12 },
      })
      assert.deepEqual(await a.get('s', 'g', 'a'), { n: 12 })
      assert.equal(await a.get('s', 'g', 'str'), 'text')
      assert.equal(await a.get('s', 'g', 'big'), null)
    })

    test('the text variants answer exactly the JSON of the value variants', async (t) => {
      const a = open(t)
      if (a.getText === undefined || a.setText === undefined || a.updateText === undefined) return
      assert.equal(await a.getText('s', 'g', 'i'), null)
      assert.deepEqual(await a.setText('s', 'g', 'i', { v: 'é', n: [1, 2] }), {
        old_text: null,
        new_text: '{"v":"é","n":[1,2]}',
      })
      assert.equal(await a.getText('s', 'g', 'i'), JSON.stringify(await a.get('s', 'g', 'i')))
      const r = await a.updateText('s', 'g', 'i', [{ type: 'increment', path: 'c', by: 2 }])
      assert.equal(r.old_text, '{"v":"é","n":[1,2]}')
      assert.equal(r.new_text, JSON.stringify(r.new_value))
      const gone = await a.updateText('s', 'g', 'i', [{ type: 'set', path: '', value: null }])
      assert.equal(gone.new_text, null)
      assert.equal(await a.getText('s', 'g', 'i'), null)
    })

    test('close twice is safe', async () => {
      const a = impl.make()
      await a.close()
      await a.close()
    })
  })
}

describe('sqlite adapter persistence', () => {
  test('writes are in the file after close and reopen', async () => {
    const file = join(tmp, 'persist', 'state.db')
    const a = new SqliteAdapter({ maxValueBytes: MAX, file })
    await a.set('s', 'g', 'i', { v: 1 })
    await a.update('s', 'g', 'i', [{ type: 'increment', path: 'v', by: 1 }])
    await a.close()
    const b = new SqliteAdapter({ maxValueBytes: MAX, file })
    assert.deepEqual(await b.get('s', 'g', 'i'), { v: 2 })
    await b.close()
  })

  test('a write is acknowledged only once another connection to the file can read it', async () => {
    const file = join(tmp, 'committed', 'state.db')
    const a = new SqliteAdapter({ maxValueBytes: MAX, file })
    const b = new SqliteAdapter({ maxValueBytes: MAX, file })
    const writes = Array.from({ length: 50 }, (_, i) =>
      a.set('s', 'g', `k${i}`, { i }).then(async () => assert.deepEqual(await b.get('s', 'g', `k${i}`), { i })),
    )
    await Promise.all(writes)
    await a.close()
    await b.close()
  })

  test('close commits writes already accepted', async () => {
    const file = join(tmp, 'close-flush', 'state.db')
    const a = new SqliteAdapter({ maxValueBytes: MAX, file })
    const pending = a.set('s', 'g', 'i', { v: 1 })
    await a.close()
    assert.deepEqual(await pending, { old_value: null, new_value: { v: 1 } })
    const b = new SqliteAdapter({ maxValueBytes: MAX, file })
    assert.deepEqual(await b.get('s', 'g', 'i'), { v: 1 })
    await b.close()
  })

  test('an acknowledged write survives SIGKILL of the writing process', () => {
    const file = join(tmp, 'killed', 'state.db')
    // The child acknowledges each write on stdout, then is killed by the OS mid-stream.
    const script = `
      import { SqliteAdapter } from ${JSON.stringify(new URL('../src/modules/store/sqlite.ts', import.meta.url).href)}
      const a = new SqliteAdapter({ maxValueBytes: 1 << 20, file: ${JSON.stringify(file)} })
      for (let i = 0; i < 200; i++) {
        await a.set('s', 'g', 'k' + i, { i })
        process.stdout.write('ack ' + i + '\\n')
      }
      process.kill(process.pid, 'SIGKILL')
    `
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    })
    assert.equal(res.signal, 'SIGKILL', res.stderr)
    const acked = res.stdout.split('\n').filter((l) => l.startsWith('ack ')).length
    assert.equal(acked, 200)
    const b = new SqliteAdapter({ maxValueBytes: MAX, file })
    return b.getGroup('s', 'g').then(async (items) => {
      assert.equal(items.length, 200)
      await b.close()
    })
  })
})

describe('ops', () => {
  test('parseOps names the bad field', () => {
    const msg = (raw: unknown) => {
      try {
        parseOps(raw, 'state.update')
        return 'no error'
      } catch (err) {
        assert.ok(err instanceof IIIError && err.code === 'invalid_argument')
        return err.message
      }
    }
    assert.match(msg(undefined), /ops must be a non-empty array/)
    assert.match(msg([]), /ops must be a non-empty array/)
    assert.match(msg([{ type: 'multiply', path: 'a', by: 2 }]), /ops\[0\]\.type must be one of/)
    assert.match(
      msg([
        { type: 'set', path: 'a', value: 1 },
        { type: 'increment', path: 'a' },
      ]),
      /ops\[1\]\.by must be a finite number/,
    )
    assert.match(msg([{ type: 'increment', path: 'a', by: '1' }]), /ops\[0\]\.by/)
    assert.match(msg([{ type: 'set', path: 'a..b', value: 1 }]), /empty segment/)
    assert.match(msg([{ type: 'set', path: 7, value: 1 }]), /path must be/)
    assert.match(msg([{ type: 'set', path: 'a' }]), /value is required/)
    assert.match(msg([{ type: 'merge', value: [1] }]), /value must be an object/)
    assert.match(msg([{ type: 'remove', path: '' }]), /non-empty path/)
    assert.match(msg(['set']), /ops\[0\] must be an object/)
  })

  test('applyOps never modifies its input', () => {
    const input = { a: { b: 1 }, list: [1, 2] }
    const frozen = JSON.stringify(input)
    const out = applyOps(input, [
      { type: 'increment', path: 'a.b', by: 1 },
      { type: 'remove', path: 'list.0' },
      { type: 'merge', path: 'a', value: { c: 2 } },
    ])
    assert.equal(JSON.stringify(input), frozen)
    assert.deepEqual(out, { a: { b: 2, c: 2 }, list: [2] })
  })
})
