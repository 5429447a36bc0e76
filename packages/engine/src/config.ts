/**
 * Engine options: one object, defaults in one place, validated at start-up. Sources, later
 * ones winning: built-in defaults, the YAML config file (with `${VAR}` and `${VAR:default}`
 * expanded from the environment first), then command-line flags.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { z } from 'zod'

const port = z.number().int().min(0).max(65535)
const positive = z.number().int().positive()

const corsSchema = z
  .object({
    origins: z.array(z.string().min(1)).default([]),
    credentials: z.boolean().default(false),
  })
  .strict()
  .refine((c) => !(c.credentials && c.origins.includes('*')), {
    message: 'cors.origins may not contain "*" when cors.credentials is true',
  })

const apiSchema = z
  .object({
    host: z.string().optional(),
    port: port.default(3111),
    body_limit: positive.default(1024 * 1024),
    timeout_ms: positive.default(30_000),
    max_json_depth: positive.default(128),
    cors: corsSchema.default({ origins: [], credentials: false }),
  })
  .strict()

const adapterName = z.enum(['sqlite', 'memory', 'redis'])

/** Where a Redis is: the engine's (`redis:` at the top) or a module's own override. */
const redisSchema = z
  .object({
    url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
    prefix: z
      .string()
      .regex(/^[^{}]*$/, 'may not contain { or }')
      .default('iii:'),
  })
  .strict()

const storeSchema = z
  .object({
    /** Unset: `redis` when the engine has a Redis, `sqlite` otherwise. */
    adapter: adapterName.optional(),
    /** This module's own Redis (url and prefix), instead of the engine's. */
    redis: redisSchema.partial().strict().optional(),
    max_value_bytes: positive.default(1024 * 1024),
  })
  .strict()

const streamsSchema = storeSchema
  .extend({
    host: z.string().optional(),
    port: port.default(3112),
    auth_function: z.string().optional(),
    max_queue: positive.default(1000),
    slow_client_ms: positive.default(5000),
  })
  .strict()

const emptyModule = z.object({}).strict()

/** A module's entry: its options, or `false` to switch it off. */
const moduleEntry = <T extends z.ZodTypeAny>(schema: T) => z.union([z.literal(false), schema]).optional()

const configSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: port.default(49134),
    data_dir: z.string().default('./data'),
    log_level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    redis: redisSchema.optional(),
    bridge: z
      .object({
        max_payload: positive.default(16 * 1024 * 1024),
        heartbeat_ms: positive.default(15_000),
        max_bad_frames: positive.default(1000),
        invocation_timeout_ms: positive.default(30_000),
      })
      .strict()
      .default({
        max_payload: 16 * 1024 * 1024,
        heartbeat_ms: 15_000,
        max_bad_frames: 1000,
        invocation_timeout_ms: 30_000,
      }),
    modules: z
      .object({
        api: moduleEntry(apiSchema),
        event: moduleEntry(emptyModule),
        cron: moduleEntry(emptyModule),
        state: moduleEntry(storeSchema),
        streams: moduleEntry(streamsSchema),
      })
      .strict()
      .default({}),
  })
  .strict()

type RawConfig = z.infer<typeof configSchema>
export type ApiOptions = z.infer<typeof apiSchema>
/** A module's store options, resolved: `adapter` is set, and `redis` when it is `redis`. */
export type StoreOptions = Omit<z.infer<typeof storeSchema>, 'adapter' | 'redis'> & {
  adapter: 'sqlite' | 'memory' | 'redis'
  redis?: RedisOptions
}
export type StreamsOptions = Omit<z.infer<typeof streamsSchema>, 'adapter' | 'redis'> & StoreOptions
/** A Redis to connect to and the prefix of every key there. */
export type RedisOptions = z.infer<typeof redisSchema>

/** The engine's resolved options. A module set to `false` in the config is `null` here. */
export interface EngineOptions {
  host: string
  port: number
  dataDir: string
  logLevel: 'debug' | 'info' | 'warn' | 'error'
  /** The engine's Redis (`--redis`, `III_REDIS_URL`, `redis:`); null runs it on its own. */
  redis: RedisOptions | null
  bridge: { maxPayload: number; heartbeatMs: number; maxBadFrames: number; invocationTimeoutMs: number }
  modules: {
    api: ApiOptions | null
    event: object | null
    cron: object | null
    state: StoreOptions | null
    streams: StreamsOptions | null
  }
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
export function resolveConfig(raw: unknown): EngineOptions {
  const parsed = configSchema.safeParse(raw ?? {})
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error.issues[0]))
  const c: RawConfig = parsed.data
  const pick = <T>(entry: T | false | undefined, schema: z.ZodType<T>): T | null =>
    entry === false ? null : (entry ?? schema.parse({}))
  const redis = c.redis ?? null
  /** A store module's adapter: its own choice, else Redis when the engine has one. */
  const store = <T extends z.infer<typeof storeSchema>>(name: string, o: T | null) => {
    if (o === null) return null
    const { adapter: chosen, redis: own, ...rest } = o
    const adapter = chosen ?? (redis ? 'redis' : 'sqlite')
    if (adapter !== 'redis') return { ...rest, adapter }
    const url = own?.url ?? redis?.url
    if (url === undefined) {
      throw new ConfigError(
        `config: modules.${name}.adapter is redis but no Redis is set (use --redis, III_REDIS_URL, redis.url or modules.${name}.redis.url)`,
      )
    }
    return { ...rest, adapter, redis: { url, prefix: own?.prefix ?? redis?.prefix ?? 'iii:' } }
  }
  return {
    host: c.host,
    port: c.port,
    dataDir: c.data_dir,
    logLevel: c.log_level,
    redis,
    bridge: {
      maxPayload: c.bridge.max_payload,
      heartbeatMs: c.bridge.heartbeat_ms,
      maxBadFrames: c.bridge.max_bad_frames,
      invocationTimeoutMs: c.bridge.invocation_timeout_ms,
    },
    modules: {
      api: pick(c.modules.api, apiSchema),
      event: pick(c.modules.event, emptyModule),
      cron: pick(c.modules.cron, emptyModule),
      state: store('state', pick(c.modules.state, storeSchema)),
      streams: store('streams', pick(c.modules.streams, streamsSchema)) as StreamsOptions | null,
    },
  }
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
  /** `--redis URL`: run as one engine of a cluster on this Redis. */
  redis?: string
}

/** Merges the config file (if any) with command-line overrides and resolves everything. */
export function loadOptions(cli: CliOverrides, env: NodeJS.ProcessEnv = process.env): EngineOptions {
  const raw = (cli.config ? readConfigFile(cli.config, env) : {}) as Record<string, any>
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError('config: the file must hold a YAML mapping')
  }
  const merged: Record<string, any> = { ...raw, modules: { ...(raw.modules ?? {}) } }
  if (cli.host !== undefined) merged.host = cli.host
  if (cli.port !== undefined) merged.port = cli.port
  if (cli.dataDir !== undefined) merged.data_dir = cli.dataDir
  if (cli.logLevel !== undefined) merged.log_level = cli.logLevel
  // The one switch: the flag, else III_REDIS_URL, else the file's redis.url.
  const redisUrl = cli.redis ?? (env.III_REDIS_URL || undefined)
  if (redisUrl !== undefined) merged.redis = { ...(raw.redis ?? {}), url: redisUrl }
  if (cli.apiPort !== undefined && merged.modules.api !== false)
    merged.modules.api = { ...(merged.modules.api ?? {}), port: cli.apiPort }
  if (cli.streamsPort !== undefined && merged.modules.streams !== false)
    merged.modules.streams = { ...(merged.modules.streams ?? {}), port: cli.streamsPort }
  return resolveConfig(merged)
}
