/** State and streams through the SDK against the engine's real state and streams modules. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { startEngine } from '@iii-dev/testkit'
import { State, Stream, setDefaultBridge } from '../src/index.ts'
import { coded, connectBridge } from './helpers.ts'

describe('state and streams', () => {
  test('bridge.state: set, get, getGroup, listGroups, update, delete, clear', async (t) => {
    const engine = await startEngine(t)
    const bridge = await connectBridge(t, engine.bridgeUrl)
    const state = bridge.state
    assert.equal(await state.get('config', 'theme'), null)
    assert.deepEqual(await state.set('config', 'theme', 'dark'), { old_value: null, new_value: 'dark' })
    assert.equal(await state.get('config', 'theme'), 'dark')
    await state.set('config', 'lang', 'en')
    await state.set('counters', 'hits', { n: 0 })
    assert.deepEqual((await state.getGroup('config')).sort(), ['dark', 'en'])
    assert.deepEqual((await state.listGroups()).sort(), ['config', 'counters'])
    // concurrent increments are never lost
    await Promise.all(
      Array.from({ length: 20 }, () => state.update('counters', 'hits', [{ type: 'increment', path: 'n', by: 1 }])),
    )
    assert.deepEqual(await state.get('counters', 'hits'), { n: 20 })
    assert.equal(await state.delete('config', 'theme'), 'dark')
    assert.equal(await state.get('config', 'theme'), null)
    await state.clear('config')
    assert.deepEqual(await state.getGroup('config'), [])
    await assert.rejects(state.update('counters', 'hits', [{ type: 'bogus' } as never]), coded('invalid_argument'))
  })

  test('new State() and new Stream(name) with no bridge use the default bridge', async (t) => {
    const engine = await startEngine(t)
    const bridge = await connectBridge(t, engine.bridgeUrl)
    setDefaultBridge(bridge)
    t.after(() => setDefaultBridge(undefined))
    await new State().set('g', 'k', 1)
    assert.equal(await bridge.state.get('g', 'k'), 1)
    const todos = new Stream<{ title: string; done?: boolean; id?: string }>('todos')
    const r = await todos.set('inbox', 'item-1', { title: 'Buy milk' })
    assert.equal(r.old_value, null)
    assert.equal(r.new_value.title, 'Buy milk')
  })

  test('Stream: get, set, delete, getGroup, listGroups, update, send', async (t) => {
    const engine = await startEngine(t)
    const bridge = await connectBridge(t, engine.bridgeUrl)
    const todos = new Stream<{ title: string; done?: boolean; votes?: number; id?: string }>('todos', bridge)
    assert.equal(await todos.get('inbox', 'a'), null)
    await todos.set('inbox', 'a', { title: 'A' })
    await todos.set('inbox', 'b', { title: 'B', votes: 0 })
    await todos.set('done', 'c', { title: 'C', done: true })
    assert.equal((await todos.get('inbox', 'a'))?.title, 'A')
    assert.deepEqual(
      (await todos.getGroup('inbox')).map((i) => i.title),
      ['A', 'B'],
    )
    assert.deepEqual((await todos.listGroups()).sort(), ['done', 'inbox'])
    const u = await todos.update('inbox', 'b', [
      { type: 'increment', path: 'votes', by: 2 },
      { type: 'set', path: 'done', value: true },
    ])
    assert.equal(u.old_value?.votes, 0)
    assert.equal(u.new_value.votes, 2)
    assert.equal(u.new_value.done, true)
    assert.equal((await todos.delete('inbox', 'a'))?.title, 'A')
    assert.equal(await todos.get('inbox', 'a'), null)
    assert.equal(await todos.send('inbox', 'typing', { who: 'alice' }), null)
    // other streams are separate
    assert.deepEqual(await new Stream('other', bridge).getGroup('inbox'), [])
  })
})
