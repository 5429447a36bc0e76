/**
 * Worker authentication at the bridge's WebSocket upgrade, before any frame: a bearer token
 * matched (in constant time, by SHA-256 digest) against the configured identities' tokens, or
 * else an auth function a trusted worker serves. Whatever does not end in an identity is
 * refused with HTTP 401 and no socket (`net/ws-endpoint.ts`). See docs/security.md.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { ConfigError } from '../config.js'
import { FULL_RIGHTS, Policy } from '../core/policy.js'
import type { EngineApi } from '../modules/module.js'
import { type AuthOptionsInput, policyOptions } from './options.js'

/** How long the auth function may take; later is a refusal. */
export const AUTH_FUNCTION_TIMEOUT_MS = 5000

/** The identity `III_TOKEN` in the engine's environment creates, with full rights. */
export const ENV_TOKEN_IDENTITY = 'III_TOKEN'

/** Resolved `bridge.auth`: token digests (never the tokens), policies, the auth function. */
export interface AuthConfig {
  tokens: Array<{ digest: Buffer; policy: Policy }>
  identities: Map<string, Policy>
  function?: { path: string; identity: string }
}

/** What the auth function is called with. */
export interface AuthRequest {
  headers: Record<string, string | string[] | undefined>
  query_params: Record<string, string>
  addr: string
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}

/**
 * Builds the auth config from `bridge.auth` and `III_TOKEN`; null when neither is set (auth
 * off). Token environment variables are read here, once; a missing one is a start-up error.
 */
export function resolveAuth(raw: AuthOptionsInput | undefined, env: NodeJS.ProcessEnv): AuthConfig | null {
  const envToken = env.III_TOKEN
  if (raw === undefined && !envToken) return null
  const config: AuthConfig = { tokens: [], identities: new Map() }
  for (const [name, entry] of Object.entries(raw?.identities ?? {})) {
    const { tokens, ...rules } = entry
    const policy = new Policy(name, rules)
    config.identities.set(name, policy)
    for (const source of tokens) {
      if ('sha256' in source) {
        config.tokens.push({ digest: Buffer.from(source.sha256, 'hex'), policy })
        continue
      }
      const value = env[source.env]
      if (!value) {
        throw new ConfigError(
          `config: bridge.auth.identities.${name}.tokens: environment variable ${source.env} is not set`,
        )
      }
      config.tokens.push({ digest: digest(value), policy })
    }
  }
  if (envToken) {
    if (config.identities.has(ENV_TOKEN_IDENTITY)) {
      throw new ConfigError(`config: bridge.auth.identities.${ENV_TOKEN_IDENTITY} is the name III_TOKEN uses`)
    }
    const policy = new Policy(ENV_TOKEN_IDENTITY, FULL_RIGHTS)
    config.identities.set(ENV_TOKEN_IDENTITY, policy)
    config.tokens.push({ digest: digest(envToken), policy })
  }
  if (raw?.function !== undefined) {
    if (!config.identities.has(raw.function.identity)) {
      throw new ConfigError(`config: bridge.auth.function.identity ${raw.function.identity} is not an identity`)
    }
    config.function = raw.function
  }
  if (config.tokens.length === 0) {
    throw new ConfigError('config: bridge.auth has no token, so no worker could ever connect')
  }
  return config
}

/** The bearer token of an upgrade request, if any. */
function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization
  if (header === undefined) return undefined
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return m?.[1]
}

/** Decides on every bridge upgrade; `admit` is the endpoint's hook. */
export class Authenticator {
  constructor(
    private readonly config: AuthConfig,
    private readonly engine: EngineApi,
  ) {}

  /** Resolves the connecting worker's policy, or undefined (HTTP 401). Never rejects. */
  async admit(req: IncomingMessage): Promise<{ context: Policy } | undefined> {
    const token = bearer(req)
    if (token !== undefined) {
      const presented = digest(token)
      let found: Policy | undefined
      // Every digest is compared, so the time taken does not tell which one matched.
      for (const t of this.config.tokens) if (timingSafeEqual(presented, t.digest)) found ??= t.policy
      if (found !== undefined) return { context: found }
    }
    const fn = this.config.function
    if (fn === undefined) {
      this.engine.log.warn(
        `audit: bridge upgrade from ${req.socket.remoteAddress} refused: ${token ? 'bad' : 'no'} token`,
      )
      return undefined
    }
    try {
      const policy = await this.callAuthFunction(fn.path, req)
      if (policy !== undefined) return { context: policy }
      this.engine.log.warn(`audit: bridge upgrade from ${req.socket.remoteAddress} refused by ${fn.path}`)
    } catch (err) {
      this.engine.log.warn(
        `audit: bridge upgrade from ${req.socket.remoteAddress} refused: auth function ${fn.path} failed: ${(err as Error)?.message ?? err}`,
      )
    }
    return undefined
  }

  /**
   * Calls the auth function. `{identity}` naming a configured identity gets that identity's
   * policy; another name gets `policy` from the answer (defaults as in the config). Anything
   * else, a throw or no answer within 5 s, is a refusal.
   */
  private async callAuthFunction(path: string, req: IncomingMessage): Promise<Policy | undefined> {
    const request: AuthRequest = {
      headers: { ...req.headers },
      query_params: Object.fromEntries(new URL(req.url ?? '/', 'http://localhost').searchParams),
      addr: req.socket.remoteAddress ?? '',
    }
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${AUTH_FUNCTION_TIMEOUT_MS} ms`)),
        AUTH_FUNCTION_TIMEOUT_MS,
      )
    })
    let result: unknown
    try {
      result = await Promise.race([this.engine.invoke(path, request, { timeoutMs: AUTH_FUNCTION_TIMEOUT_MS }), late])
    } finally {
      clearTimeout(timer)
    }
    if (typeof result !== 'object' || result === null) return undefined
    const { identity, policy } = result as { identity?: unknown; policy?: unknown }
    if (typeof identity !== 'string' || identity.length === 0) return undefined
    const known = this.config.identities.get(identity)
    if (known !== undefined) return known
    const rules = policyOptions.safeParse(policy ?? {})
    if (!rules.success) throw new Error(`its policy for ${identity} is not valid: ${rules.error.issues[0]?.message}`)
    return new Policy(identity, rules.data)
  }
}

/** 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(host)
}

/**
 * Throws (one sentence, saying why) when the bridge would listen beyond this machine with no
 * worker authentication and without `--insecure`.
 */
export function checkExposure(host: string, auth: AuthConfig | null, insecure: boolean): void {
  if (auth !== null || insecure || isLoopback(host)) return
  throw new Error(
    `refusing to listen on ${host} without worker authentication, because any process that can reach the bridge could register functions, take other workers' calls and read all state; set bridge.auth or III_TOKEN, or pass --insecure`,
  )
}
