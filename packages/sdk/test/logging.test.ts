/** The logger (local lines, forwarding, redaction) and the module-level hooks on the default bridge. */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { eventually, repoRoot, startEngine, startWorker } from '@iii-dev/testkit'
import { Logger, type LogRecord } from '../src/index.ts'
import { connectBridge, fetchRouted, waitForFunctions } from './helpers.ts'

const hooksWorker = join(repoRoot, 'packages/sdk/test/fixtures/hooks-worker.ts')

describe('logging', () => {
  test('a line carries level, trace id and function path; secrets are redacted before writing or forwarding', () => {
    const lines: string[] = []
    const sent: LogRecord[] = []
    const log = new Logger({
      level: 'info',
      traceId: 'abc123',
      functionPath: 'users.create',
      write: (line) => lines.push(line),
      forward: (r) => sent.push(r),
    })
    log.debug('hidden')
    log.info('calling ws://x/?token=s3cret', {
      headers: { authorization: 'Bearer s3cret', accept: 'json' },
      password: 'p',
    })
    assert.equal(lines.length, 1)
    assert.match(lines[0], /^\S+Z INFO {2}\[trace=abc123 fn=users\.create\] calling/)
    assert.ok(!lines[0].includes('s3cret'), lines[0])
    assert.ok(lines[0].includes('"accept":"json"'))
    assert.deepEqual(sent, [
      {
        level: 'info',
        message: 'calling ws://x/?token=[redacted]',
        trace_id: 'abc123',
        function_path: 'users.create',
        data: { headers: { authorization: '[redacted]', accept: 'json' }, password: '[redacted]' },
      },
    ])
    const child = log.child({ traceId: 'def456' })
    child.warn('w')
    assert.match(lines[1], /WARN {2}\[trace=def456 fn=users\.create\] w$/)
  })

  test('module-level hooks and logger work on the lazily created default bridge', async (t) => {
    const engine = await startEngine(t)
    const worker = startWorker(t, hooksWorker, { III_BRIDGE_URL: engine.bridgeUrl })
    await worker.waitFor('hooks worker connected')
    const bridge = await connectBridge(t, engine.bridgeUrl)
    await waitForFunctions(bridge, 'api.get./hello/:name')
    const res = await fetchRouted(`${engine.apiUrl}/hello/bob`, { headers: { authorization: 'Bearer s3cret' } })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-greeter'), 'hooks')
    const body = await res.json()
    assert.equal(body.hello, 'bob')
    assert.match(body.trace, /^[0-9a-f]{32}$/)
    // the handler's log line has its trace id, locally and at the engine, without the token
    await worker.waitFor(`[trace=${body.trace} fn=api.get./hello/:name] saying hello`)
    await eventually(() => engine.output().includes(`"trace_id":"${body.trace}"`))
    assert.ok(!worker.output().includes('s3cret'))
    assert.ok(!engine.output().includes('s3cret'))

    await bridge.emit('greeted', { who: 'bob' })
    await worker.waitFor('greeted {"who":"bob"}')
  })
})
