/**
 * CORS. Off unless `cors.origins` lists origins: then a request whose `Origin` is listed gets
 * it echoed in `access-control-allow-origin` (with `vary: origin`), or `*` when the list holds
 * `*` (never together with credentials: the config refuses that combination).
 */
import type { ServerResponse } from 'node:http'

export interface CorsOptions {
  origins: string[]
  credentials: boolean
}

/** How long browsers may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = '600'

export class Cors {
  /** False when no origin is configured: no CORS header is ever sent. */
  readonly enabled: boolean
  private readonly any: boolean
  private readonly origins: Set<string>
  private readonly credentials: boolean

  constructor(opts: CorsOptions) {
    this.origins = new Set(opts.origins.map((o) => o.toLowerCase()))
    this.any = this.origins.has('*') && !opts.credentials
    this.credentials = opts.credentials
    this.enabled = this.origins.size > 0
  }

  /**
   * Sets the CORS headers of a response to a request from `origin`; returns whether the
   * origin is allowed. Call only when {@link enabled}.
   */
  apply(res: ServerResponse, origin: string | undefined): boolean {
    if (this.any) {
      if (origin === undefined) return false
      res.setHeader('access-control-allow-origin', '*')
      return true
    }
    res.setHeader('vary', 'origin')
    if (origin === undefined || !this.origins.has(origin.toLowerCase())) return false
    res.setHeader('access-control-allow-origin', origin)
    if (this.credentials) res.setHeader('access-control-allow-credentials', 'true')
    return true
  }

  /** Adds what a preflight answer needs beyond {@link apply}, for an allowed origin. */
  preflight(res: ServerResponse, methods: string, requestHeaders: string | undefined): void {
    res.setHeader('access-control-allow-methods', methods)
    if (requestHeaders !== undefined && requestHeaders !== '') {
      res.setHeader('access-control-allow-headers', requestHeaders)
      res.appendHeader('vary', 'access-control-request-headers')
    }
    res.setHeader('access-control-max-age', PREFLIGHT_MAX_AGE)
  }
}
