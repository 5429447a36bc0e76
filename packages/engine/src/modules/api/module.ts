/**
 * The `api` module: an HTTP server whose routes are `api` triggers. A request that matches a
 * route becomes a call of the route's function with an ApiRequest
 * `{method, path, path_params, query_params, headers, body}`; the result becomes the response.
 * The mapping, limits and error statuses are documented in docs/http.md.
 */
import { randomUUID } from 'node:crypto'
import { createServer, IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { ErrorCode } from '../../errors.js'
import { hostForUrl, listen, slowClientTimeouts } from '../../net/listen.js'
import { RawJson } from '../../protocol.js'
import type { EngineApi, EngineModule } from '../module.js'
import { checkJsonBody, isJsonContentType } from './body.js'
import { Cors } from './cors.js'
import { type HttpError, mapEngineError, STATUS_TEXT } from './errors.js'
import type { ApiOptions } from './options.js'
import { InvalidResponse, sendError, sendResult } from './response.js'
import { MAX_URL_LENGTH, type RouteEntry, type RouteMatch, RouteTable } from './routes.js'

/** How long `stop()` waits for requests in flight before it closes their sockets. */
const STOP_GRACE_MS = 5_000

/** The request object node creates for each request, with the module's per-request state. */
class ApiIncomingMessage extends IncomingMessage {
  apiModule: ApiModule | null = null
  apiRes: ServerResponse | null = null
  apiMatch: RouteMatch | null = null
  apiChunks: Buffer[] | null = null
  apiSize = 0
  apiDone = false
}

export class ApiModule implements EngineModule {
  readonly name = 'api'
  private engine: EngineApi | null = null
  private server: Server | null = null
  private address = ''
  /** Set by stop(): answers close their connection, new requests on open ones get 503. */
  private closing = false
  private readonly routes = new RouteTable()
  private readonly cors: Cors
  /** @internal read by the body listeners. */
  readonly bodyLimit: number
  private readonly maxDepth: number
  private readonly timeoutMs: number
  /** Requests being handled now, against `max_concurrent_requests`. */
  private active = 0
  private readonly release = () => {
    this.active--
  }

  constructor(private readonly options: ApiOptions) {
    this.cors = new Cors(options.cors)
    this.bodyLimit = options.body_limit
    this.maxDepth = options.max_json_depth
    this.timeoutMs = options.timeout_ms
  }

  async start(engine: EngineApi): Promise<void> {
    this.engine = engine
    const host = this.options.host ?? engine.options.host
    const timeouts = slowClientTimeouts(engine.options.headerTimeoutMs ?? 10_000)
    const server = createServer({
      IncomingMessage: ApiIncomingMessage,
      noDelay: true,
      keepAlive: true,
      // Complete headers within `header_timeout_ms` (R19), the whole request within
      // `request_timeout_ms` (else 408); node wants the second no shorter than the first.
      ...timeouts,
      requestTimeout: Math.max(this.options.request_timeout_ms, timeouts.headersTimeout),
      requireHostHeader: false,
    })
    server.on('request', (req: ApiIncomingMessage, res: ServerResponse) => this.onRequest(req, res))
    server.on('checkContinue', (req: ApiIncomingMessage, res: ServerResponse) => this.onCheckContinue(req, res))
    server.on('clientError', onClientError)
    // Without these listeners node answers an unknown `Expect` with a bare 417 and drops a
    // CONNECT without a word; both get the module's JSON errors instead.
    server.on('checkExpectation', (req: ApiIncomingMessage, res: ServerResponse) => {
      res.shouldKeepAlive = false
      this.reject(req, res, null, 417, 'expectation_failed', 'only "Expect: 100-continue" is supported')
    })
    server.on('connect', (req: IncomingMessage, socket: Socket) => {
      this.logClientError(req, null, 501, 'method_not_implemented')
      endWithError(socket, 501, 'method_not_implemented', 'CONNECT is not supported')
    })
    await listen(server, this.options.port, host, 'api')
    server.on('error', (err) => engine.log.error(`api: server error: ${err.message}`))
    this.server = server
    const addr = server.address()
    const port = typeof addr === 'object' && addr !== null ? addr.port : this.options.port
    this.address = `http://${hostForUrl(host)}:${port}`
    engine.registerTriggerType(
      'api',
      {
        register: (t) => {
          const entry = this.routes.add(t)
          engine.log.debug(`api: ${entry.method} ${entry.path} -> ${entry.functionPath} (trigger ${t.id})`)
        },
        unregister: (t) => this.routes.remove(t.id),
      },
      'Calls the function for HTTP requests to config.http_method config.api_path',
    )
  }

  /** Resolves once the server closed (drain or stop started it). */
  private closed: Promise<void> | null = null

  /**
   * Stops accepting connections (the port closes, idle keep-alive sockets close, a new
   * request on an open one gets 503 `shutting_down`); resolves when no request is running.
   */
  async drain(): Promise<void> {
    const server = this.server
    if (server === null) return
    this.beginClose(server)
    while (this.active > 0) await new Promise((resolve) => setTimeout(resolve, 20))
  }

  private beginClose(server: Server): Promise<void> {
    if (this.closed !== null) return this.closed
    this.closing = true
    this.closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    return this.closed
  }

  /**
   * Stops accepting connections, lets requests in flight finish for up to
   * {@link STOP_GRACE_MS} (their connections close after the answer), then closes every socket.
   */
  async stop(): Promise<void> {
    const server = this.server
    if (server === null) return
    this.server = null
    const closed = this.beginClose(server)
    const force = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS)
    await closed
    clearTimeout(force)
  }

  addresses(): Record<string, string> {
    return { api: this.address }
  }

  // ---- the request path --------------------------------------------------------------------

  private onCheckContinue(req: ApiIncomingMessage, res: ServerResponse): void {
    const length = req.headers['content-length']
    if (length !== undefined && Number(length) > this.bodyLimit) {
      this.tooLarge(req, res)
      return
    }
    res.writeContinue()
    this.onRequest(req, res)
  }

  private onRequest(req: ApiIncomingMessage, res: ServerResponse): void {
    const url = req.url as string
    if (this.closing) {
      res.shouldKeepAlive = false
      sendError(res, 503, 'shutting_down', 'the engine is shutting down')
      return
    }
    if (this.active >= this.options.max_concurrent_requests) {
      res.setHeader('retry-after', '1')
      sendError(
        res,
        503,
        ErrorCode.TooManyRequests,
        `the engine is handling ${this.options.max_concurrent_requests} requests already (modules.api.max_concurrent_requests)`,
      )
      return
    }
    this.active++
    res.once('close', this.release)
    if (this.cors.enabled) this.cors.apply(res, req.headers.origin)
    if (url.length > MAX_URL_LENGTH) {
      this.reject(req, res, null, 414, 'uri_too_long', `the request target is longer than ${MAX_URL_LENGTH} bytes`)
      return
    }
    const match = this.routes.find(req.method as string, url)
    if (match === null) {
      this.onMiss(req, res, url)
      return
    }
    this.accept(req, res, match)
  }

  /** No route for this method: HEAD falls back to GET, OPTIONS answers itself, else 405/404. */
  private onMiss(req: ApiIncomingMessage, res: ServerResponse, url: string): void {
    const method = req.method as string
    if (method === 'HEAD') {
      const match = this.routes.find('GET', url)
      if (match !== null) {
        this.accept(req, res, match)
        return
      }
    }
    const allowed = this.routes.methodsFor(url)
    if (allowed.length === 0) {
      if (hasMalformedEscape(url))
        this.reject(req, res, null, 400, 'bad_request', 'the path holds a malformed percent-escape')
      else this.reject(req, res, null, 404, 'not_found', 'no route matches this path')
      return
    }
    allowed.push('OPTIONS')
    const allow = allowed.join(', ')
    if (method === 'OPTIONS') {
      // A preflight, or a plain OPTIONS on a route that has no OPTIONS trigger of its own.
      const origin = req.headers.origin
      if (this.cors.enabled && origin !== undefined && req.headers['access-control-request-method'] !== undefined) {
        if (this.cors.apply(res, origin)) this.cors.preflight(res, allow, req.headers['access-control-request-headers'])
      }
      res.statusCode = 204
      res.setHeader('allow', allow)
      res.end()
      return
    }
    res.setHeader('allow', allow)
    this.reject(req, res, null, 405, 'method_not_allowed', `${method} is not allowed here; allowed: ${allow}`)
  }

  /** A route matched: read the body if there is one, then call. */
  private accept(req: ApiIncomingMessage, res: ServerResponse, match: RouteMatch): void {
    const headers = req.headers
    const length = headers['content-length']
    if (headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) {
      this.call(req, res, match, 'null')
      return
    }
    if (length !== undefined && Number(length) > this.bodyLimit) {
      this.tooLarge(req, res)
      return
    }
    req.apiModule = this
    req.apiRes = res
    req.apiMatch = match
    req.apiChunks = []
    req.on('data', onBodyData)
    req.on('end', onBodyEnd)
    req.on('error', onBodyError)
  }

  /** 413, and the connection closes after the answer instead of reading the rest. */
  tooLarge(req: ApiIncomingMessage, res: ServerResponse): void {
    req.apiDone = true
    req.apiChunks = null
    res.shouldKeepAlive = false
    res.setHeader('connection', 'close')
    this.reject(req, res, null, 413, 'payload_too_large', `the body is larger than ${this.bodyLimit} bytes`)
  }

  /** The whole body arrived. */
  bodyComplete(req: ApiIncomingMessage): void {
    const res = req.apiRes as ServerResponse
    const match = req.apiMatch as RouteMatch
    const chunks = req.apiChunks as Buffer[]
    const size = req.apiSize
    req.apiChunks = null
    req.apiRes = null
    req.apiMatch = null
    if (size === 0) {
      this.call(req, res, match, 'null')
      return
    }
    const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)
    let bodyText: string
    if (isJsonContentType(req.headers['content-type'])) {
      try {
        bodyText = checkJsonBody(buf, this.maxDepth)
      } catch (err) {
        const e = err as HttpError
        this.reject(req, res, match.entry, e.status, e.code, e.message)
        return
      }
    } else {
      bodyText = JSON.stringify(buf.toString('utf8'))
    }
    this.call(req, res, match, bodyText)
  }

  /** Builds the ApiRequest (the body is embedded as validated JSON text, not re-encoded). */
  private call(req: ApiIncomingMessage, res: ServerResponse, match: RouteMatch, bodyText: string): void {
    const entry = match.entry
    const data = new RawJson(
      `{"method":"${req.method}","path":${entry.pathJson},"path_params":${JSON.stringify(match.params)},"query_params":${JSON.stringify(match.query)},"headers":${JSON.stringify(req.headers)},"body":${bodyText}}`,
    )
    ;(this.engine as EngineApi)
      .invoke(entry.functionPath, data, {
        trigger: entry.meta,
        timeoutMs: this.timeoutMs,
        // An incoming W3C trace context: the request's span (and every call it makes) joins it.
        traceparent: typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined,
      })
      .then(
        (result) => this.respond(req, res, entry, result),
        (err) => this.fail(req, res, entry, err),
      )
  }

  private respond(req: IncomingMessage, res: ServerResponse, entry: RouteEntry, result: unknown): void {
    if (res.destroyed) return
    if (this.closing) res.shouldKeepAlive = false
    try {
      sendResult(res, result)
      if (res.statusCode >= 400 && res.statusCode < 500) {
        const error = (result as { body?: { error?: unknown } } | null)?.body?.error
        this.logClientError(req, entry, res.statusCode, typeof error === 'string' ? error : null)
      }
    } catch (err) {
      if (!(err instanceof InvalidResponse)) {
        this.fail(req, res, entry, err)
        return
      }
      ;(this.engine as EngineApi).log.warn(
        `api: ${entry.method} ${entry.path} -> ${entry.functionPath}: ${err.message}`,
      )
      sendError(res, 500, 'invalid_response', err.message)
    }
  }

  private fail(req: IncomingMessage, res: ServerResponse, entry: RouteEntry, err: unknown): void {
    if (this.closing) res.shouldKeepAlive = false
    const m = mapEngineError((err as { code?: unknown } | null)?.code)
    if (m.logged) {
      const errorId = randomUUID()
      ;(this.engine as EngineApi).log.error(`api: ${entry.method} ${entry.path} -> ${entry.functionPath} failed`, {
        error_id: errorId,
        code: (err as { code?: unknown } | null)?.code ?? null,
        message: err instanceof Error ? err.message : String(err),
      })
      if (!res.destroyed) sendError(res, m.status, m.code, m.message, { error_id: errorId })
      return
    }
    if (res.destroyed) return
    if (m.status === 503) res.setHeader('retry-after', '1')
    sendError(res, m.status, m.code, m.message)
    if (m.status >= 400 && m.status < 500) this.logClientError(req, entry, m.status, m.code)
  }

  /** Answers a 4xx error and logs it at info. */
  private reject(
    req: IncomingMessage,
    res: ServerResponse,
    entry: RouteEntry | null,
    status: number,
    code: string,
    message: string,
  ): void {
    sendError(res, status, code, message)
    this.logClientError(req, entry, status, code)
  }

  /**
   * One info line per 4xx answer: `api: POST /users/:id -> 400 invalid_json (users.update)`.
   * A matched request shows its route pattern; an unmatched one its path, without the query
   * string (which may carry tokens), cut at 200 characters.
   */
  private logClientError(req: IncomingMessage, entry: RouteEntry | null, status: number, code: string | null): void {
    const log = (this.engine as EngineApi).log
    if (!log.enabled('info')) return
    let where: string
    if (entry !== null) where = `${entry.path} (${entry.functionPath})`
    else {
      const url = req.url ?? ''
      const q = url.indexOf('?')
      where = (q === -1 ? url : url.slice(0, q)).slice(0, 200)
    }
    log.info(`api: ${req.method} ${where} -> ${status}${code === null ? '' : ` ${code}`}`)
  }
}

// Body listeners are shared functions (no per-request closures); `this` is the request.

function onBodyData(this: ApiIncomingMessage, chunk: Buffer): void {
  if (this.apiDone) return
  const module = this.apiModule as ApiModule
  this.apiSize += chunk.length
  if (this.apiSize > module.bodyLimit) {
    module.tooLarge(this, this.apiRes as ServerResponse)
    return
  }
  ;(this.apiChunks as Buffer[]).push(chunk)
}

function onBodyEnd(this: ApiIncomingMessage): void {
  if (this.apiDone) return
  this.apiDone = true
  ;(this.apiModule as ApiModule).bodyComplete(this)
}

function onBodyError(this: ApiIncomingMessage): void {
  // The client went away mid-body: nothing to answer.
  this.apiDone = true
  this.apiChunks = null
}

/** True when the path part of a request target has a `%` not followed by two hex digits. */
function hasMalformedEscape(url: string): boolean {
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  try {
    decodeURI(path)
    return false
  } catch {
    return true
  }
}

/** Sockets whose parser error was handled: node reports the same error again for later bytes. */
const failedSockets = new WeakSet<Socket>()

/**
 * Malformed requests at the HTTP parser level get a JSON answer where one can still be written.
 * When a request on the socket is still being answered (garbage or extra body bytes after a
 * valid request, or a body that stalled past `request_timeout_ms`), that answer is written
 * first and the socket closes after it; nothing after the bad bytes is read.
 */
function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (failedSockets.has(socket)) return
  failedSockets.add(socket)
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
  if (res !== undefined && res !== null) {
    answerThenClose(err, res, socket)
    return
  }
  let status = 400
  let code = 'bad_request'
  let message = 'the request is not valid HTTP'
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      status = 431
      code = 'headers_too_large'
      message = 'the request line and headers are too large'
      break
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      status = 408
      code = 'request_timeout'
      message = 'the request did not arrive in time'
      break
    case 'HPE_INVALID_METHOD':
      status = 501
      code = 'method_not_implemented'
      message = 'the request method is not supported'
      break
    case 'HPE_INVALID_VERSION':
      status = 505
      code = 'http_version_not_supported'
      message = 'only HTTP/1.0 and HTTP/1.1 are served'
      break
  }
  endWithError(socket, status, code, message)
}

/** Writes a JSON error straight to a socket node no longer frames responses on, then closes it. */
function endWithError(socket: Socket, status: number, code: string, message: string): void {
  socket.on('error', () => socket.destroy())
  const body = JSON.stringify({ error: code, message })
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  )
}

/**
 * A parser error while `res` is pending: its answer, then close. When the body was still
 * arriving (it stalled past `request_timeout_ms`: 408; its chunked framing broke: 400), the
 * handler has not run and now never will, so the error is the answer.
 */
function answerThenClose(err: NodeJS.ErrnoException, res: ServerResponse, socket: Socket): void {
  if (res.writableFinished) {
    socket.destroy()
    return
  }
  res.once('finish', () => socket.end())
  res.once('close', () => socket.destroy())
  if (res.headersSent) return
  res.shouldKeepAlive = false
  const req = res.req as ApiIncomingMessage
  const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
  // The parser finished the request before the error (bytes after it): the handler has it.
  if (!timedOut && (req.complete || req.apiChunks === null)) return
  req.apiDone = true
  req.apiChunks = null
  if (timedOut) sendError(res, 408, 'request_timeout', 'the request did not arrive in time')
  else sendError(res, 400, 'bad_request', 'the request body is not valid HTTP (broken chunked framing)')
}
