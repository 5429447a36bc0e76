/**
 * The console's server: a loopback HTTP listener that serves the console page and two JSON
 * endpoints: `POST /api/invoke {function_path, data}`, which calls a function (usually a
 * built-in such as `engine.functions.list`) inside the engine, and `POST /api/http {method,
 * path, headers?, body?}`, the HTTP request runner, which sends one request to the engine's api
 * port with a fresh `traceparent` and answers the response with its trace id. It runs in the engine process
 * (not as a bridge worker) so it needs no worker credentials when bridge auth is on; instead it
 * is bound to loopback, and off loopback it refuses to start without a token. Loaded lazily by
 * the CLI only with `--console`, so the engine's cold start is unchanged without it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { slowClientTimeouts } from '../../net/listen.js'
import { consolePage } from './page.js'

/** Where and how the console listens. */
export interface ConsoleOptions {
  /** Port (default 3113; 0 picks a free one). */
  port: number
  /** Address to bind (default 127.0.0.1). */
  host?: string
  /** Required off loopback: sent as `Authorization: Bearer <token>` or `?token=`. */
  token?: string
  /** `header_timeout_ms`: a socket whose request headers are not complete after this is closed. */
  headerTimeoutMs?: number
  /** The engine's api address (`http://host:port`), the target of `POST /api/http`; absent without the api module. */
  apiUrl?: string
}

/** Calls one function in the engine. */
export type Invoke = (path: string, data: unknown) => Promise<unknown>

const MAX_BODY = 1024 * 1024
/** Headers the runner does not pass on: the connection to the api port is its own. */
const HOP_HEADERS = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'expect',
])
const HTTP_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'])
/** How long the runner waits for the api port's answer. */
const HTTP_TIMEOUT_MS = 30_000
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/** A running console listener. */
export interface ConsoleServer {
  url: string
  close(): Promise<void>
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(text)
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, { error: { code, message } })
}

function sameToken(given: string | null, token: string): boolean {
  if (given === null) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY) {
        reject(new Error('too_large'))
        req.destroy()
      } else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

async function handleInvoke(req: IncomingMessage, res: ServerResponse, invoke: Invoke): Promise<void> {
  const parsed = await readJson(req, res)
  if (parsed === undefined) return
  const body = parsed.value
  const path = (body as { function_path?: unknown } | null)?.function_path
  if (typeof path !== 'string' || path === '') {
    return fail(res, 400, 'invalid_request', 'function_path must be a non-empty string')
  }
  try {
    const result = await invoke(path, (body as { data?: unknown }).data ?? {})
    send(res, 200, { result: result ?? null })
  } catch (err) {
    const e = err as { code?: string; message?: string }
    const code = e.code ?? 'internal_error'
    send(res, code === 'function_not_found' ? 404 : 502, { error: { code, message: e.message ?? String(err) } })
  }
}

/** The api address as a client reaches it: a wildcard bind is reached on loopback. */
function reachable(apiUrl: string): string {
  const url = new URL(apiUrl)
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1'
  else if (url.hostname === '[::]') url.hostname = '[::1]'
  return url.origin
}

type RunnerRequest = { method: string; path: string; headers: Record<string, string>; body?: string }

/** Checks a runner request `{method, path, headers?, body?}`; answers a message naming the problem. */
function runnerRequest(body: unknown): RunnerRequest | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the request body must be an object'
  const o = body as Record<string, unknown>
  const method = typeof o.method === 'string' ? o.method.toUpperCase() : ''
  if (!HTTP_METHODS.has(method)) return `method must be one of ${[...HTTP_METHODS].join(', ')}`
  if (typeof o.path !== 'string' || !o.path.startsWith('/')) return 'path must be a string starting with /'
  const headers: Record<string, string> = {}
  if (o.headers !== undefined) {
    if (typeof o.headers !== 'object' || o.headers === null || Array.isArray(o.headers)) {
      return 'headers must be an object of strings'
    }
    for (const [k, v] of Object.entries(o.headers)) {
      if (typeof v !== 'string') return `header ${k} must be a string`
      if (!HOP_HEADERS.has(k.toLowerCase())) headers[k.toLowerCase()] = v
    }
  }
  let text: string | undefined
  if (o.body !== undefined && o.body !== null) {
    if (method === 'GET' || method === 'HEAD') return `a ${method} request has no body`
    text = typeof o.body === 'string' ? o.body : JSON.stringify(o.body)
    if (typeof o.body !== 'string' && headers['content-type'] === undefined)
      headers['content-type'] = 'application/json'
  }
  return { method, path: o.path, headers, body: text }
}

/**
 * The HTTP request runner: one request to the api port. A fresh W3C `traceparent` (unless the
 * caller sent one) makes the request's spans findable: its trace id is in the answer.
 */
async function handleHttp(req: IncomingMessage, res: ServerResponse, apiUrl: string | undefined): Promise<void> {
  const parsed = await readJson(req, res)
  if (parsed === undefined) return
  const r = runnerRequest(parsed.value)
  if (typeof r === 'string') return fail(res, 400, 'invalid_request', r)
  if (apiUrl === undefined) return fail(res, 503, 'api_unavailable', 'this engine runs no api module (modules.api)')
  let traceId = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(r.headers.traceparent ?? '')?.[1]
  if (traceId === undefined) {
    traceId = randomBytes(16).toString('hex')
    r.headers.traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`
  }
  const started = performance.now()
  let answer: Response
  try {
    answer = await fetch(reachable(apiUrl) + r.path, {
      method: r.method,
      headers: r.headers,
      body: r.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    })
  } catch (err) {
    const e = err as Error
    if (e.name === 'TimeoutError') {
      return fail(res, 504, 'timeout', `the api port did not answer within ${HTTP_TIMEOUT_MS} ms`)
    }
    return fail(res, 502, 'api_unreachable', `the api port could not be reached: ${e.message}`)
  }
  const text = await answer.text()
  send(res, 200, {
    status: answer.status,
    headers: Object.fromEntries(answer.headers),
    body: text,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
    trace_id: traceId,
  })
}

/** Reads a JSON body; on a bad one answers the error itself and resolves undefined. */
async function readJson(req: IncomingMessage, res: ServerResponse): Promise<{ value: unknown } | undefined> {
  let text: string
  try {
    text = await readBody(req)
  } catch {
    fail(res, 413, 'payload_too_large', `the request body is over ${MAX_BODY} bytes`)
    return undefined
  }
  try {
    return { value: JSON.parse(text) }
  } catch {
    fail(res, 400, 'invalid_json', 'the request body is not JSON')
    return undefined
  }
}

/** Starts the console listener; rejects off loopback without a token. */
export async function startConsole(options: ConsoleOptions, invoke: Invoke): Promise<ConsoleServer> {
  const host = options.host ?? '127.0.0.1'
  const token = options.token
  if (!LOOPBACK.has(host) && (token === undefined || token === '')) {
    throw new Error(`the console refuses to listen on ${host} without a token (set console.token or bind to loopback)`)
  }
  const timeouts = slowClientTimeouts(options.headerTimeoutMs ?? 10_000)
  const server: Server = createServer(
    { ...timeouts, requestTimeout: Math.max(30_000, timeouts.headersTimeout) },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'http://console')
      if (token !== undefined && token !== '') {
        const auth = req.headers.authorization
        const given = auth?.startsWith('Bearer ') ? auth.slice(7) : url.searchParams.get('token')
        if (!sameToken(given, token)) return fail(res, 401, 'unauthorized', 'a valid console token is required')
      }
      if (url.pathname === '/api/invoke') {
        if (req.method !== 'POST') return fail(res, 405, 'method_not_allowed', 'use POST /api/invoke')
        handleInvoke(req, res, invoke).catch(() => fail(res, 500, 'internal_error', 'the console failed'))
        return
      }
      if (url.pathname === '/api/http') {
        if (req.method !== 'POST') return fail(res, 405, 'method_not_allowed', 'use POST /api/http')
        handleHttp(req, res, options.apiUrl).catch(() => fail(res, 500, 'internal_error', 'the console failed'))
        return
      }
      if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        res.end(consolePage)
        return
      }
      fail(res, 404, 'not_found', `no console route ${req.method} ${url.pathname}`)
    },
  )
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const shown = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shown}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
