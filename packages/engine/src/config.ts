/**
 * Engine options: one object, validated at start-up. The engine's own keys are defined here;
 * each module's keys by its own schema (`modules/<name>/options.ts`). Sources, later ones
 * winning: built-in defaults, the YAML config file (with `${VAR}` and `${VAR:default}`
 * expanded from the environment first), then command-line flags. A file in the original
 * engine's shape (`modules: [{class, config}]`) is translated first (`config-original.ts`).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import * as z from 'zod/mini'
import { type AuthConfig, resolveAuth } from './bridge/auth.js'
import { authOptions, limitsOptions } from './bridge/options.js'
import { type ClusterOptions, clusterOptions } from './cluster/options.js'
import { translateOriginalConfig } from './config-original.js'
import { type ApiOptions, apiOptions } from './modules/api/options.js'
import { type EventOptions, eventOptions, resolveEventOptions } from './modules/event/options.js'
import { noOptions } from './modules/module.js'
import { type StateOptions, stateOptions } from './modules/state/options.js'
import { resolveStore, type StoreOptions } from './modules/store/options.js'
import { type StreamsOptions, streamsOptions } from './modules/streams/options.js'
import { type RedisOptions, redisOptions } from './redis/options.js'
import { int, port, positive, str } from './schema.js'

export type { ApiOptions, ClusterOptions, EventOptions, RedisOptions, StateOptions, StoreOptions, StreamsOptions }

/** A module's entry: its options, or `false` to switch it off. */
const moduleEntry = <T extends z.ZodMiniType>(schema: T) => z.optional(z.union([z.literal(false), schema]))

/** A loopback-by-default admin listener (the console, `/metrics`): a token is needed elsewhere. */
const adminListener = (defaultPort: number) =>
  z.strictObject({
    port: z._default(port(), defaultPort),
    host: z._default(z.string(), '127.0.0.1'),
    token: z.optional(str(z.minLength(1))),
  })

const bridgeDefaults = {
  max_payload: 16 * 1024 * 1024,
  heartbeat_ms: 15_000,
  max_bad_frames: 1000,
  invocation_timeout_ms: 30_000,
  limits: { max_in_flight: 1024, max_registrations: 10_000, max_frames_per_second: 100_000 },
}

const configSchema = z.strictObject({
  host: z._default(z.string(), '127.0.0.1'),
  port: z._default(port(), 49134),
  data_dir: z._default(z.string(), './data'),
  log_level: z._default(z.enum(['debug', 'info', 'warn', 'error']), 'info'),
  log_format: z._default(z.enum(['text', 'json']), 'text'),
  /** Spans (docs/observability.md): on with `enabled`, `--console` or `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  tracing: z.optional(
    z.strictObject({
      enabled: z.optional(z.boolean()),
      ring_size: z._default(positive(), 10_000),
      log_ring_size: z._default(positive(), 10_000),
    }),
  ),
  redis: z.optional(redisOptions),
  cluster: z.optional(clusterOptions),
  /** Listen beyond loopback without worker authentication (`--insecure`). */
  insecure: z._default(z.boolean(), false),
  /** The web console (`--console`); present means on. */
  console: z.optional(adminListener(3113)),
  /** Prometheus `/metrics` (`--metrics-port`); present means on. A token is required off loopback. */
  metrics: z.optional(adminListener(3114)),
  /** How long SIGTERM lets calls and deliveries in flight finish. */
  shutdown_grace_ms: z._default(int(z.gte(0)), 10_000),
  /** A socket on any port that has not sent its complete request headers after this is closed (R19). */
  header_timeout_ms: z._default(int(z.gte(100), z.lte(600_000)), 10_000),
  bridge: z._default(
    z.strictObject({
      max_payload: z._default(positive(), bridgeDefaults.max_payload),
      heartbeat_ms: z._default(positive(), bridgeDefaults.heartbeat_ms),
      max_bad_frames: z._default(positive(), bridgeDefaults.max_bad_frames),
      invocation_timeout_ms: z._default(positive(), bridgeDefaults.invocation_timeout_ms),
      limits: z._default(limitsOptions, bridgeDefaults.limits),
      auth: z.optional(authOptions),
    }),
    bridgeDefaults,
  ),
  modules: z._default(
    z.strictObject({
      api: moduleEntry(apiOptions),
      event: moduleEntry(eventOptions),
      cron: moduleEntry(noOptions),
      state: moduleEntry(stateOptions),
      streams: moduleEntry(streamsOptions),
    }),
    {},
  ),
})

type RawConfig = z.infer<typeof configSchema>

/** The engine's resolved options. A module set to `false` in the config is `null` here. */
export interface EngineOptions {
  host: string
  port: number
  dataDir: string
  logLevel: 'debug' | 'info' | 'warn' | 'error'
  /** `log_format`: the engine's own lines as text or one JSON object each. */
  logFormat: 'text' | 'json'
  /** Spans and the span and log rings; `enabled` null means on when `OTEL_*` asks for export. */
  tracing: { enabled: boolean | null; ringSize: number; logRingSize: number }
  /** The engine's Redis (`--redis`, `III_REDIS_URL`, `redis:`); null runs it on its own. */
  redis: RedisOptions | null
  /** How this engine meets the others on the same Redis (used only with `redis`). */
  cluster: ClusterOptions
  /** Listen beyond loopback without worker authentication. */
  insecure: boolean
  /** The web console (`console:` or `--console`); null when off. */
  console: { port: number; host: string; token?: string } | null
  /** Prometheus `/metrics` (`metrics:` or `--metrics-port`); null when off. */
  metrics?: { port: number; host: string; token?: string } | null
  /** How long a graceful shutdown lets work in flight finish (`shutdown_grace_ms`, default 10 s). */
  shutdownGraceMs?: number
  /**
   * `header_timeout_ms`: every port (bridge, api, streams, console) closes a socket that has
   * not sent its complete request headers or WebSocket upgrade within it (default 10 s).
   */
  headerTimeoutMs?: number
  bridge: {
    maxPayload: number
    heartbeatMs: number
    maxBadFrames: number
    invocationTimeoutMs: number
    /** Per-connection limits (`bridge.limits`). */
    limits: { maxInFlight: number; maxRegistrations: number; maxFramesPerSecond?: number }
    /** Worker authentication (`bridge.auth` and `III_TOKEN`); null when off. */
    auth: AuthConfig | null
  }
  modules: {
    api: ApiOptions | null
    event: EventOptions | null
    cron: object | null
    state: StateOptions | null
    streams: StreamsOptions | null
  }
  /** What reading an original-shape config file left out, logged once each when the engine starts. */
  configWarnings?: string[]
}

/** A bad configuration; the message is one sentence naming the problem. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Expands `${VAR}` and `${VAR:default}`; an unset variable without a default is an error. */
export function expandEnv(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g, (_m, name: string, fallback?: string) => {
    const value = env[name]
    if (value !== undefined) return value
    if (fallback !== undefined) return fallback
    throw new ConfigError(`config: environment variable ${name} is not set and has no default`)
  })
}

function describeIssue(issue: z.core.$ZodIssue, prefix: PropertyKey[] = []): string {
  const path = [...prefix, ...issue.path]
  const where = path.length > 0 ? path.join('.') : 'the top level'
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `"${k}"`).join(', ')
    return `config: unknown key ${keys} at ${where}`
  }
  if (issue.code === 'invalid_union') {
    // A module entry is `false` or its options: explain what is wrong with the options.
    const options = issue.errors.at(-1)?.[0]
    if (options !== undefined) return describeIssue(options, path)
  }
  return `config: ${where}: ${issue.message}`
}

/** Validates a parsed config object (snake_case, as in YAML) and resolves defaults. */
export function resolveConfig(input: unknown, env: NodeJS.ProcessEnv = process.env): EngineOptions {
  const { config: raw, warnings } =
    typeof input === 'object' && input !== null && !Array.isArray(input)
      ? translateOriginalConfig(input as Record<string, unknown>)
      : { config: input, warnings: [] }
  const parsed = configSchema.safeParse(raw ?? {})
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error.issues[0]))
  const c: RawConfig = parsed.data
  const pick = <T>(entry: T | false | undefined, schema: z.ZodMiniType<T>): T | null =>
    entry === false ? null : (entry ?? schema.parse({}))
  const redis = c.redis ?? null
  const store = <T extends z.infer<typeof stateOptions>>(name: string, o: T | null) => {
    if (o === null) return null
    try {
      return resolveStore(o, redis, `modules.${name}`)
    } catch (err) {
      throw new ConfigError(`config: ${(err as Error).message}`)
    }
  }
  const events = (o: EventOptions | null) => {
    if (o === null) return null
    try {
      return resolveEventOptions(o, redis !== null)
    } catch (err) {
      throw new ConfigError(`config: ${(err as Error).message}`)
    }
  }
  return {
    host: c.host,
    port: c.port,
    dataDir: c.data_dir,
    logLevel: c.log_level,
    logFormat: c.log_format,
    tracing: {
      // The console shows traces, so it turns tracing on unless the file says otherwise.
      enabled: c.tracing?.enabled ?? (c.console !== undefined ? true : null),
      ringSize: c.tracing?.ring_size ?? 10_000,
      logRingSize: c.tracing?.log_ring_size ?? 10_000,
    },
    redis,
    cluster: clusterWithSecret(c.cluster ?? clusterOptions.parse({}), env),
    insecure: c.insecure,
    console: c.console ?? null,
    metrics: c.metrics ?? null,
    shutdownGraceMs: c.shutdown_grace_ms,
    headerTimeoutMs: c.header_timeout_ms,
    bridge: {
      maxPayload: c.bridge.max_payload,
      heartbeatMs: c.bridge.heartbeat_ms,
      maxBadFrames: c.bridge.max_bad_frames,
      invocationTimeoutMs: c.bridge.invocation_timeout_ms,
      limits: {
        maxInFlight: c.bridge.limits.max_in_flight,
        maxRegistrations: c.bridge.limits.max_registrations,
        maxFramesPerSecond: c.bridge.limits.max_frames_per_second,
      },
      auth: resolveAuth(c.bridge.auth, env),
    },
    modules: {
      api: pick(c.modules.api, apiOptions),
      event: events(pick(c.modules.event, eventOptions)),
      cron: pick(c.modules.cron, noOptions),
      state: store('state', pick(c.modules.state, stateOptions)),
      streams: store('streams', pick(c.modules.streams, streamsOptions)),
    },
    ...(warnings.length > 0 && { configWarnings: warnings }),
  }
}

/** `cluster.secret`, else `III_CLUSTER_SECRET` (at least 16 characters either way). */
function clusterWithSecret(cluster: ClusterOptions, env: NodeJS.ProcessEnv): ClusterOptions {
  const secret = cluster.secret ?? (env.III_CLUSTER_SECRET || undefined)
  if (secret === undefined) return cluster
  if (secret.length < 16) throw new ConfigError('config: III_CLUSTER_SECRET must be at least 16 characters')
  return { ...cluster, secret }
}

/** Reads a YAML config file, expanding environment variables before parsing. */
export function readConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`config: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`)
  }
  try {
    // Loaded only when there is a file to read: it is a noticeable part of a cold start.
    const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml')
    return parse(expandEnv(text, env)) ?? {}
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new ConfigError(`config: ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`)
  }
}

/** Command-line overrides, already parsed. */
export interface CliOverrides {
  config?: string
  host?: string
  port?: number
  apiPort?: number
  streamsPort?: number
  dataDir?: string
  logLevel?: string
  /** `--log-format text|json`. */
  logFormat?: string
  /** `--tracing` (the console, `--console` or `console:`, also turns it on). */
  tracing?: boolean
  /** `--redis URL`: run as one engine of a cluster on this Redis. */
  redis?: string
  insecure?: boolean
  /** `--console` / `--console-port N`: serve the console (on this port, when given). */
  consolePort?: number
  console?: boolean
  /** `--metrics-port N`: serve Prometheus `/metrics` on this port (0 picks a free one). */
  metricsPort?: number
}

/** Merges the config file (if any) with command-line overrides and resolves everything. */
export function loadOptions(cli: CliOverrides, env: NodeJS.ProcessEnv = process.env): EngineOptions {
  const file = (cli.config ? readConfigFile(cli.config, env) : {}) as Record<string, any>
  if (typeof file !== 'object' || file === null || Array.isArray(file)) {
    throw new ConfigError('config: the file must hold a YAML mapping')
  }
  const { config: raw, warnings } = translateOriginalConfig(file)
  const merged: Record<string, any> = { ...raw, modules: { ...(raw.modules ?? {}) } }
  if (cli.host !== undefined) merged.host = cli.host
  if (cli.port !== undefined) merged.port = cli.port
  if (cli.dataDir !== undefined) merged.data_dir = cli.dataDir
  if (cli.logLevel !== undefined) merged.log_level = cli.logLevel
  if (cli.logFormat !== undefined) merged.log_format = cli.logFormat
  if (cli.tracing)
    merged.tracing = {
      ...(raw.tracing ?? {}),
      enabled: (raw.tracing as { enabled?: boolean } | undefined)?.enabled ?? true,
    }
  // The one switch: the flag, else III_REDIS_URL, else the file's redis.url.
  const redisUrl = cli.redis ?? (env.III_REDIS_URL || undefined)
  if (redisUrl !== undefined) merged.redis = { ...(raw.redis ?? {}), url: redisUrl }
  if (cli.insecure) merged.insecure = true
  if (cli.metricsPort !== undefined) merged.metrics = { ...(raw.metrics ?? {}), port: cli.metricsPort }
  if (cli.console || cli.consolePort !== undefined)
    merged.console = { ...(raw.console ?? {}), ...(cli.consolePort !== undefined && { port: cli.consolePort }) }
  if (cli.apiPort !== undefined && merged.modules.api !== false)
    merged.modules.api = { ...(merged.modules.api ?? {}), port: cli.apiPort }
  if (cli.streamsPort !== undefined && merged.modules.streams !== false)
    merged.modules.streams = { ...(merged.modules.streams ?? {}), port: cli.streamsPort }
  const options = resolveConfig(merged, env)
  return warnings.length > 0 ? { ...options, configWarnings: warnings } : options
}
