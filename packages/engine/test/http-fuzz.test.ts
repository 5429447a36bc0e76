/**
 * Fuzzing the HTTP edge through raw sockets (R13, R14): random and mutated HTTP/1.1 requests
 * (methods, percent-encoded, dotted, very long and unicode paths, random headers, invalid JSON,
 * wrong `content-length`, chunked garbage) to the api port of a real engine whose worker serves
 * a few routes. Every request whose headers are complete gets an answer; every 4xx/5xx answer
 * is a JSON `{error, message}`; a 500 only where the handler failed; a path parameter never
 * holds `/`; a socket the engine says it closes is closed; the engine stays up and serves a
 * well-formed request after every round. Seeded and deterministic: FUZZ_RUNS and FUZZ_SEED
 * (defaults 3000 and 1111) change the amount and the seed, for `npm run fuzz`.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { test } from 'node:test'
import { type EngineProcess, eventually, startEngine } from '@iii-dev/testkit'
import fc from 'fast-check'
import { RawClient } from './raw.ts'

const RUNS = Number(process.env.FUZZ_RUNS ?? 3000)
const SEED = Number(process.env.FUZZ_SEED ?? 1111)
/** Requests on the wire at once, and per round (a well-formed request is checked after each). */
const PARALLEL = 24
const ROUND = 250

// ---- the requests ------------------------------------------------------------------------

const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE']
const method = fc.oneof(
  { weight: 15, arbitrary: fc.constantFrom(...methods) },
  { weight: 1, arbitrary: fc.constantFrom(...methods).map((m) => m.toLowerCase()) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z!#$%&'*+.^_`|~-]{1,12}$/) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
)

const segment = fc.oneof(
  fc.constantFrom(
    'items',
    'users',
    'posts',
    'fail',
    '..',
    '.',
    '',
    '%2e%2e',
    '%2E.',
    '..%2f',
    '%2F',
    '%00',
    '%',
    '%zz',
  ),
  fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.stringMatching(/^[a-z0-9_-]{1,10}$/),
)
const path = fc.oneof(
  // The routes with parameters, each filled with anything.
  fc
    .tuple(fc.constantFrom('/items/', '/users/'), segment)
    .map(([p, s]) => (p === '/users/' ? `${p}${s}/posts/7` : p + s)),
  fc
    .tuple(fc.constantFrom('/items/', '/users/'), segment)
    .map(([p, s]) => (p === '/users/' ? `${p}${s}/posts/7` : p + s)),
  fc.tuple(segment, segment).map(([a, b]) => `/items/${a}/${b}`),
  fc.array(segment, { maxLength: 6 }).map((s) => `/${s.join('/')}`),
  fc.constantFrom('/items/ok', '/fail', '/echo', '*', '', '//items//x', 'http://x/items/1', '/items/a?x=1&x=2&y'),
  fc.nat({ max: 20_000 }).map((n) => `/items/${'a'.repeat(n)}`),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => `/${s}`),
)
const query = fc.oneof(
  fc.constant(''),
  fc
    .array(fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })), { maxLength: 4 })
    .map((pairs) => `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`),
  fc.string({ maxLength: 10 }).map((s) => `?${s}`),
)

const headerName = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom('Content-Type', 'Accept', 'Connection', 'Expect', 'Origin', 'Upgrade', 'X-A'),
  },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/) },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
)
const headerValue = fc.oneof(
  fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8', 'close', 'keep-alive'),
  fc.constantFrom('application/json', 'application/json; charset=utf-8'),
  fc.constantFrom('100-continue', 'websocket', 'upgrade', 'Upgrade, close', 'h2c', 'chunked', 'x', ''),
  fc.string({ maxLength: 30 }),
  fc.nat({ max: 9000 }).map((n) => 'v'.repeat(n)),
)

/** How the body is framed: right, wrong or broken. */
const framing = fc.constantFrom('length', 'length', 'short', 'long', 'none', 'chunked', 'chunked-garbage', 'both')

const json = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.nat({ max: 300 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.constantFrom('{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}', '1e999', '"\\ud800"'),
)
const body = fc.oneof(
  { weight: 3, arbitrary: json },
  // Valid JSON, then mutated: cut short or with bytes flipped.
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.json({ maxDepth: 3 }), fc.nat(), fc.string({ minLength: 1, maxLength: 3 }))
      .map(([j, n, junk]) => {
        const at = n % (j.length + 1)
        return n % 2 === 0 ? j.slice(0, at) : j.slice(0, at) + junk + j.slice(at + junk.length)
      }),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constant('') },
)

interface Case {
  method: string
  target: string
  headers: Array<[string, string]>
  framing: string
  body: string
  lengthDelta: number
}

const fuzzCase: fc.Arbitrary<Case> = fc.record({
  method,
  target: fc.tuple(path, query).map(([p, q]) => p + q),
  headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 4 }),
  framing,
  body,
  lengthDelta: fc.integer({ min: 1, max: 40 }),
})

/** A case as bytes on the wire. */
function encode(c: Case): Buffer {
  const lines = [`${c.method} ${c.target} HTTP/1.1`, 'Host: fuzz']
  for (const [k, v] of c.headers) lines.push(`${k}: ${v}`)
  const bytes = Buffer.from(c.body, 'utf8')
  let payload: Buffer = bytes
  switch (c.framing) {
    case 'length':
      lines.push(`Content-Length: ${bytes.length}`)
      break
    case 'short': // more body than declared: the rest is read as the next request
      lines.push(`Content-Length: ${Math.max(0, bytes.length - c.lengthDelta)}`)
      break
    case 'long': // less body than declared: the request never completes (408)
      lines.push(`Content-Length: ${bytes.length + c.lengthDelta}`)
      break
    case 'chunked':
      lines.push('Transfer-Encoding: chunked')
      payload = Buffer.concat([
        Buffer.from(bytes.length > 0 ? `${bytes.length.toString(16)}\r\n` : ''),
        bytes,
        Buffer.from(bytes.length > 0 ? '\r\n0\r\n\r\n' : '0\r\n\r\n'),
      ])
      break
    case 'chunked-garbage':
      lines.push('Transfer-Encoding: chunked')
      payload = Buffer.from(`${c.lengthDelta.toString(16)}zz\r\n${c.body}\r\nq\r\n`)
      break
    case 'both':
      lines.push('Transfer-Encoding: chunked', `Content-Length: ${bytes.length}`)
      break
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), payload])
}

// ---- the answers -------------------------------------------------------------------------

interface Answer {
  status: number
  headers: Record<string, string>
  body: string
}

/** The first final (non-1xx) response in `buf`, when it has arrived whole. */
function firstResponse(buf: Buffer, head: boolean): Answer | 'incomplete' | 'garbage' {
  let at = 0
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at)
    if (end === -1) return 'incomplete'
    const [statusLine, ...lines] = buf.toString('latin1', at, end).split('\r\n')
    const m = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine)
    if (m === null) return 'garbage'
    const status = Number(m[1])
    const headers: Record<string, string> = {}
    for (const l of lines) {
      const i = l.indexOf(':')
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim()
    }
    at = end + 4
    if (status < 200) continue
    if (head || status === 204 || status === 304) return { status, headers, body: '' }
    if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length'])
      if (buf.length < at + n) return 'incomplete'
      return { status, headers, body: buf.toString('utf8', at, at + n) }
    }
    if (headers['transfer-encoding'] === 'chunked') {
      let body = ''
      let p = at
      for (;;) {
        const eol = buf.indexOf('\r\n', p)
        if (eol === -1) return 'incomplete'
        const size = Number.parseInt(buf.toString('latin1', p, eol), 16)
        if (size === 0) return { status, headers, body }
        if (buf.length < eol + 2 + size + 2) return 'incomplete'
        body += buf.toString('utf8', eol + 2, eol + 2 + size)
        p = eol + 2 + size + 2
      }
    }
    return 'incomplete' // framed by the close
  }
}

interface Outcome {
  answer: Answer | null
  /** The socket closed (by the engine) within the wait. */
  closed: boolean
  ms: number
  /** The start of what the engine sent, for the failure message. */
  got: string
}

/** Sends one request on a fresh socket; waits for its answer and, when it says `close`, the close. */
function exchange(port: number, bytes: Buffer, head: boolean, limitMs = 4000): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    const at = Date.now()
    let buf = Buffer.alloc(0)
    let answer: Answer | null = null
    let done = false
    const finish = (closed: boolean) => {
      if (done) return
      done = true
      clearTimeout(timer)
      s.destroy()
      resolve({ answer, closed, ms: Date.now() - at, got: buf.toString('latin1', 0, 300) })
    }
    const timer = setTimeout(() => finish(false), limitMs)
    s.setNoDelay(true)
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      if (answer !== null) return
      const r = firstResponse(buf, head)
      if (r === 'incomplete') return
      if (r === 'garbage') {
        answer = { status: 0, headers: {}, body: buf.toString('latin1', 0, 200) }
        return finish(false)
      }
      answer = r
      // A keep-alive answer: done. One that says close: wait for the engine to close.
      if (r.headers.connection?.toLowerCase() !== 'close') finish(false)
    })
    s.on('error', () => {})
    s.on('close', () => finish(true))
    s.write(bytes)
  })
}

/** What is wrong with one outcome, or null. */
function judge(c: Case, bytes: Buffer, o: Outcome): string | null {
  const complete = bytes.includes('\r\n\r\n')
  const a = o.answer
  if (a === null) {
    if (!complete && o.closed) return null
    return o.closed ? 'closed without an answer' : `no answer within ${o.ms} ms`
  }
  if (a.status === 0) return `not an HTTP answer: ${JSON.stringify(a.body)}`
  if (a.headers.connection?.toLowerCase() === 'close' && !o.closed) return 'said connection: close, stayed open'
  if (a.status >= 400 && c.method !== 'HEAD') {
    let parsed: { error?: unknown; message?: unknown }
    try {
      parsed = JSON.parse(a.body)
    } catch {
      return `${a.status} with a body that is not JSON: ${JSON.stringify(a.body.slice(0, 100))}`
    }
    if (typeof parsed?.error !== 'string' || typeof parsed?.message !== 'string') {
      return `${a.status} without {error, message}: ${a.body.slice(0, 100)}`
    }
    if (parsed.error === 'internal_error') return `internal_error: ${a.body.slice(0, 200)}`
    if (a.status === 500 && parsed.error !== 'invocation_failed') return `500 ${parsed.error}`
  }
  if (a.status >= 200 && a.status < 300 && a.body !== '') {
    const r = JSON.parse(a.body) as { params?: Record<string, string> }
    for (const v of Object.values(r.params ?? {})) if (v.includes('/')) return `a path parameter holds "/": ${v}`
  }
  return null
}

/** ` code` of a JSON error body, or ''. */
function errorCode(body: string): string {
  try {
    const code = JSON.parse(body)?.error
    return typeof code === 'string' ? ` ${code}` : ''
  } catch {
    return ''
  }
}

// ---- the engine --------------------------------------------------------------------------

async function fuzzEngine(t: { after(fn: () => unknown): void }): Promise<EngineProcess> {
  const engine = await startEngine(t, {
    config: 'header_timeout_ms: 600\nmodules:\n  api:\n    request_timeout_ms: 600\n    body_limit: 65536\n',
  })
  const worker = await RawClient.connect(t, engine.bridgeUrl)
  worker.register('hf.item', (d) => ({ status: 200, body: { params: d.path_params, method: d.method } }))
  worker.register('hf.post', (d) => ({ status: 201, body: { params: d.path_params, got: d.body } }))
  worker.register('hf.fail', () => {
    throw new Error('this handler always fails')
  })
  const routes: Array<[string, string, string]> = [
    ['hf.item', 'GET', '/items/:id'],
    ['hf.item', 'DELETE', '/items/:id'],
    ['hf.post', 'POST', '/items/:id'],
    ['hf.post', 'PUT', '/users/:uid/posts/:pid'],
    ['hf.post', 'POST', '/echo'],
    ['hf.fail', 'POST', '/fail'],
  ]
  for (const [fn, m, p] of routes) {
    worker.send({
      type: 'registertrigger',
      id: `${m} ${p}`,
      trigger_type: 'api',
      function_path: fn,
      config: { api_path: p, http_method: m },
    })
  }
  await eventually(async () => (await fetch(`${engine.apiUrl}/fail`, { method: 'POST' })).status === 500)
  return engine
}

async function wellFormed(engine: EngineProcess): Promise<void> {
  const res = await fetch(`${engine.apiUrl}/items/42?x=1`, {
    method: 'POST',
    body: '{"n":1}',
    headers: { 'content-type': 'application/json' },
  })
  assert.equal(res.status, 201)
  assert.deepEqual(await res.json(), { params: { id: '42' }, got: { n: 1 } })
  assert.equal(engine.proc.exitCode, null, 'the engine is up')
}

test(`${RUNS} random and mutated HTTP requests (seed ${SEED}): answers, JSON errors, clean closes`, async (t) => {
  const engine = await fuzzEngine(t)
  const port = Number(new URL(engine.apiUrl).port)
  const cases = fc.sample(fuzzCase, { numRuns: RUNS, seed: SEED })
  const failures: string[] = []
  const statuses = new Map<string, number>()
  for (let r = 0; r < cases.length; r += ROUND) {
    const round = cases.slice(r, r + ROUND)
    let next = 0
    const lane = async () => {
      while (next < round.length) {
        const c = round[next++]
        const bytes = encode(c)
        const o = await exchange(port, bytes, c.method === 'HEAD')
        const status = o.answer === null ? 'closed' : `${o.answer.status}${errorCode(o.answer.body)}`
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
        const wrong = judge(c, bytes, o)
        if (wrong !== null) {
          const sent = bytes.toString('utf8')
          const shown = sent.length > 400 ? `${sent.slice(0, 200)} ... ${sent.slice(-200)}` : sent
          failures.push(
            `${wrong}\n    request (${bytes.length} B): ${JSON.stringify(shown)}\n    answer: ${JSON.stringify(o.got)}`,
          )
        }
      }
    }
    await Promise.all(Array.from({ length: PARALLEL }, lane))
    await wellFormed(engine)
  }
  const seen = [...statuses].sort((a, b) => a[0].localeCompare(b[0])).map(([s, n]) => `${s}: ${n}`)
  console.log(`${cases.length} requests (seed ${SEED}); answers: ${seen.join(', ')}`)
  const kinds = new Map<string, number>()
  for (const f of failures) {
    const k = f
      .split('\n')[0]
      .replace(/[0-9]+ ms/, 'N ms')
      .slice(0, 60)
    kinds.set(k, (kinds.get(k) ?? 0) + 1)
  }
  assert.deepEqual(
    failures.slice(0, 10),
    [],
    `${failures.length} of ${cases.length} requests went wrong: ${JSON.stringify([...kinds])}`,
  )
  assert.ok(statuses.size >= 6, `the requests reached many outcomes (${seen.join(', ')})`)
  assert.doesNotMatch(engine.output(), /internal_error|TypeError|RangeError/)
})
