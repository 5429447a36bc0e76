/**
 * The engine's connections to Redis: one command connection per (url, engine) shared by every
 * module that uses Redis, and failures mapped to one coded error, `store_unavailable`.
 *
 * The options are chosen so that nothing hangs and nothing is applied twice:
 * - no offline queue: while Redis is unreachable (or still loading its AOF after a restart)
 *   commands fail at once instead of waiting for the connection;
 * - a command timeout, so a Redis that accepts the connection but stops answering fails too;
 * - commands in flight when the connection drops are failed, never re-sent (a re-sent
 *   increment could be applied twice); the caller sees `store_unavailable` and the write may
 *   or may not have happened, which the error's message says;
 * - reconnection forever with a capped delay, so everything resumes once Redis is back.
 */
import { createRequire } from 'node:module'
import type { Redis, RedisOptions } from 'ioredis'
import { ErrorCode, IIIError } from '../errors.js'

/** How long one Redis command may take before it fails with `store_unavailable`. */
export const COMMAND_TIMEOUT_MS = 3000

/** The key prefix every Redis key of iii starts with unless configured. */
export const DEFAULT_PREFIX = 'iii:'

/** Where an engine's Redis is and how its keys are named. */
export interface RedisSettings {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  url: string
  /** Put in front of every key; `iii:` by default. May not contain `{` or `}`. */
  prefix: string
}

/** ioredis options for a connection that fails fast and never re-sends a command. */
export function connectionOptions(extra: Partial<RedisOptions> = {}): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(50 * times, 500),
    // A restarted Redis answers LOADING while it reads its AOF: wait for it instead of failing.
    enableReadyCheck: true,
    ...extra,
  }
}

/** Checks a key prefix; throws one sentence when it cannot be used. */
export function checkPrefix(prefix: string): string {
  if (/[{}]/.test(prefix))
    throw new IIIError(ErrorCode.InvalidArgument, `redis prefix "${prefix}" may not contain { or }`)
  return prefix
}

/** Opens a command connection; never rejects (a Redis that is down is retried in the background). */
export function openClient(url: string, extra: Partial<RedisOptions> = {}): Redis {
  // Loaded on first use: an engine without Redis never reads the client library.
  const { Redis: Client } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis')
  const client = new Client(url, connectionOptions(extra))
  // Errors surface on the commands; the connection's own error events would only repeat them.
  client.on('error', () => {})
  client.connect().catch(() => {})
  return client
}

/** Resolves once `client` is ready, or after `timeoutMs` (false) without failing. */
export function whenReady(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true)
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer)
      client.off('ready', onReady)
      resolve(ok)
    }
    const onReady = () => done(true)
    const timer = setTimeout(() => done(false), timeoutMs)
    client.on('ready', onReady)
  })
}

/** Closes a connection at once; pending commands fail. Safe to call twice. */
export async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'end') return
  try {
    await client.quit()
  } catch {
    client.disconnect()
  }
}

/**
 * Maps an error from an ioredis command to what the engine's callers see: an `IIIError` passes
 * through, a Redis that cannot be reached or answered too late becomes `store_unavailable`, and
 * any other error reply (a bug in a script, a wrong type) becomes `internal_error`.
 */
export function storeError(err: unknown, what: string): IIIError {
  if (err instanceof IIIError) return err
  const message = err instanceof Error ? err.message : String(err)
  const name = err instanceof Error ? err.name : ''
  if (name === 'ReplyError' && !/^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN)\b/.test(message)) {
    return new IIIError(ErrorCode.Internal, `${what}: Redis refused the command: ${message}`)
  }
  return new IIIError(
    ErrorCode.StoreUnavailable,
    `${what}: Redis is unavailable (${message}); a write may or may not have been applied`,
  )
}
