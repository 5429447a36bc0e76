/**
 * Turning a handler's result into an HTTP response, and writing the module's JSON errors.
 *
 * A result that is an object with a numeric `status_code` (or else `status`) is a response:
 * `{status, body?, headers?}`. Anything else is the body of a 200, sent as JSON; `null` (a
 * handler that returned nothing) is a 204.
 */
import { type ServerResponse, validateHeaderName, validateHeaderValue } from 'node:http'

const JSON_TYPE = 'application/json; charset=utf-8'

/** Headers a handler may not set: the engine frames the response itself. */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade'])

/** Writes a JSON error `{error, message, ...extra}`; destroys the socket if headers are gone. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  extra?: Record<string, string>,
): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = extra === undefined ? { error: code, message } : { error: code, message, ...extra }
  res.statusCode = status
  res.setHeader('content-type', JSON_TYPE)
  res.end(JSON.stringify(body))
}

/** Why a handler's result cannot be sent; the text goes to the client, so it names no data. */
export class InvalidResponse extends Error {}

interface Plan {
  status: number
  headers: Array<[string, string | number | string[]]> | null
  hasContentType: boolean
  body: unknown
  hasBody: boolean
}

function plan(result: unknown): Plan {
  if (result === null || result === undefined) {
    return { status: 204, headers: null, hasContentType: false, body: undefined, hasBody: false }
  }
  if (typeof result !== 'object' || Array.isArray(result)) {
    return { status: 200, headers: null, hasContentType: false, body: result, hasBody: true }
  }
  const r = result as Record<string, unknown>
  const status = typeof r.status_code === 'number' ? r.status_code : typeof r.status === 'number' ? r.status : undefined
  if (status === undefined) return { status: 200, headers: null, hasContentType: false, body: r, hasBody: true }
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new InvalidResponse(`the handler returned status ${status}, which is not an HTTP status from 200 to 599`)
  }
  let headers: Plan['headers'] = null
  let hasContentType = false
  const h = r.headers
  if (h !== undefined && h !== null) {
    if (typeof h !== 'object' || Array.isArray(h)) {
      throw new InvalidResponse('the handler returned "headers" that is not an object of header names to values')
    }
    headers = []
    for (const name in h) {
      const value = (h as Record<string, unknown>)[name]
      const lower = name.toLowerCase()
      if (FRAMING_HEADERS.has(lower) || value === undefined || value === null) continue
      try {
        validateHeaderName(name)
        if (Array.isArray(value)) {
          for (const v of value) {
            if (typeof v !== 'string') throw new TypeError()
            validateHeaderValue(name, v)
          }
        } else if (typeof value === 'string' || typeof value === 'number') {
          validateHeaderValue(name, String(value))
        } else {
          throw new TypeError()
        }
      } catch {
        throw new InvalidResponse(`the handler returned an invalid value for header "${safeName(name)}"`)
      }
      if (lower === 'content-type') hasContentType = true
      headers.push([name, value as string | number | string[]])
    }
  }
  const noBody = status === 204 || status === 304 || r.body === undefined
  return { status, headers, hasContentType, body: r.body, hasBody: !noBody }
}

/** Header names come from the handler: only echo ones that are plain tokens, and short. */
function safeName(name: string): string {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/.test(name) ? name : '(invalid name)'
}

/**
 * Writes a handler's result. Throws {@link InvalidResponse} (before writing anything of the
 * result) when it cannot be sent: a bad status, bad headers, or a body JSON cannot encode.
 */
export function sendResult(res: ServerResponse, result: unknown): void {
  const p = plan(result)
  let payload: string | undefined
  if (p.hasBody) {
    if (typeof p.body === 'string' && p.hasContentType) payload = p.body
    else {
      payload = JSON.stringify(p.body)
      if (payload === undefined) throw new InvalidResponse('the handler returned a body that JSON cannot encode')
    }
  }
  res.statusCode = p.status
  if (p.headers !== null) {
    for (const [name, value] of p.headers) res.setHeader(name, value)
  }
  if (payload === undefined) {
    res.end()
    return
  }
  if (!p.hasContentType) res.setHeader('content-type', JSON_TYPE)
  // node frames a HEAD answer without computing its length; every other one it measures itself.
  if (res.req.method === 'HEAD') res.setHeader('content-length', Buffer.byteLength(payload))
  res.end(payload)
}
