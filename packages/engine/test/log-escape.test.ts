/**
 * Control characters in logs (attack finding): a trigger id or function path carrying a
 * newline, a carriage return or a terminal escape cannot forge a log line in the text format;
 * in the JSON format every line still parses and keeps the string as it was.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually, startEngine } from '@iii-dev/testkit'
import { RawClient } from './raw.ts'

const FORGED = 'INFO  audit: identity "admin" granted'
const EVIL_ID = `r1\n2026-01-01T00:00:00.000Z ${FORGED}`
const EVIL_PATH = `evil.fn\r\u001b[2K\u2028x`

async function registerEvil(t: { after(fn: () => unknown): void }, bridgeUrl: string): Promise<void> {
  const worker = await RawClient.connect(t, bridgeUrl)
  worker.register(EVIL_PATH, () => ({ status: 200, body: 'ok' }))
  worker.send({
    type: 'registertrigger',
    id: EVIL_ID,
    trigger_type: 'api',
    function_path: EVIL_PATH,
    config: { api_path: '/evil', http_method: 'GET' },
  })
}

test('text logs: a newline or escape sequence in a trigger id or function path is escaped', async (t) => {
  const engine = await startEngine(t, { args: ['--log-level', 'debug'] })
  await registerEvil(t, engine.bridgeUrl)
  const line = await eventually(
    () =>
      engine
        .output()
        .split('\n')
        .find((l) => l.includes('api: GET /evil')),
    5000,
  )
  assert.ok(line.includes('(trigger r1\\n2026-01-01T00:00:00.000Z INFO  audit'), line)
  assert.ok(line.includes('evil.fn\\r\\u001b[2K\\u2028x'), line)
  const lines = engine.output().split('\n')
  assert.ok(!lines.some((l) => l.startsWith('2026-01-01T00:00:00.000Z')), 'no forged line')
  assert.ok(!engine.output().includes('\u001b'), 'no raw escape character reaches the terminal')
  assert.ok(!engine.output().includes('\r'), 'no carriage return')
})

test('json logs: every line parses and keeps the trigger id and path unchanged', async (t) => {
  const engine = await startEngine(t, { args: ['--log-level', 'debug', '--log-format', 'json'] })
  await registerEvil(t, engine.bridgeUrl)
  await eventually(() => engine.output().includes('api: GET /evil'), 5000)
  const records = engine
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes('"level"'))
    .map((l) => JSON.parse(l) as { message: string })
  const record = records.find((r) => r.message.startsWith('api: GET /evil'))
  assert.ok(record, 'the route line is a JSON record')
  assert.equal(record.message, `api: GET /evil -> ${EVIL_PATH} (trigger ${EVIL_ID})`)
  assert.ok(!engine.output().includes('\u2028'), 'U+2028 is written as an escape')
})
