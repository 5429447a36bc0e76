/**
 * The console's server: a loopback HTTP listener that serves the console page and one JSON
 * endpoint, `POST /api/invoke {function_path, data}`, which calls a function (usually a
 * built-in such as `engine.functions.list`) inside the engine. It runs in the engine process
 * (not as a bridge worker) so it needs no worker credentials when bridge auth is on; instead it
 * is bound to loopback, and off loopback it refuses to start without a token. Loaded lazily by
 * the CLI only with `--console`, so the engine's cold start is unchanged without it.
 */
import { timingSafeEqual } from 'node:crypto'
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
}

/** Calls one function in the engine. */
export type Invoke = (path: string, data: unknown) => Promise<unknown>

const MAX_BODY = 1024 * 1024
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
  let text: string
  try {
    text = await readBody(req)
  } catch {
    return fail(res, 413, 'payload_too_large', `the request body is over ${MAX_BODY} bytes`)
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return fail(res, 400, 'invalid_json', 'the request body is not JSON')
  }
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
