/**
 * What one engine shares with the other engines of its cluster through Redis: one command
 * connection for every module, one subscriber connection for cluster messages, and the
 * engine's cluster-wide id. It is an {@link EngineModule} that starts before every module that
 * uses it and stops after them.
 *
 * Messages are Redis pub/sub: at most once, in order per publisher, to the engines connected
 * at the time. A message published by this engine is not handed back to it (each carries its
 * sender's id), so a module handles its own changes directly and the others' on arrival.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from '../log.js'
import type { EngineModule } from '../modules/module.js'
import { COMMAND_TIMEOUT_MS, checkPrefix, closeClient, openClient, type RedisSettings, whenReady } from './client.js'

/** A message from another engine: its id and the message text as published. */
export type ClusterHandler = (from: string, body: string) => void

export class SharedRedis implements EngineModule {
  readonly name = 'redis'
  /** This engine's id in the cluster, new at every start. */
  readonly engineId = randomUUID()
  readonly prefix: string
  private commands: Redis | null = null
  private subscriber: Redis | null = null
  private readonly handlers = new Map<string, ClusterHandler>()
  private lastPublishError = 0

  constructor(
    readonly settings: RedisSettings,
    private readonly log: Logger,
  ) {
    this.prefix = checkPrefix(settings.prefix)
  }

  /** The shared command connection (opened on first use, before `start` if need be). */
  get client(): Redis {
    this.commands ??= openClient(this.settings.url)
    return this.commands
  }

  /** Waits (bounded) for Redis at start-up; an engine whose Redis is down still starts. */
  async start(): Promise<void> {
    if (!(await whenReady(this.client, COMMAND_TIMEOUT_MS))) {
      this.log.warn(`redis: ${redact(this.settings.url)} is not reachable yet; calls that need it fail until it is`)
    }
  }

  /**
   * Handles messages on `channel` (a name under the prefix) from the other engines. One handler
   * per channel; the subscription is renewed by ioredis after a reconnection.
   */
  subscribe(channel: string, handler: ClusterHandler): void {
    const full = this.prefix + channel
    this.handlers.set(full, handler)
    if (this.subscriber === null) {
      // Subscribing is idempotent, so it may wait for the connection (and is renewed after one).
      const sub = openClient(this.settings.url, {
        commandTimeout: undefined,
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
      })
      sub.on('messageBuffer', (ch: Buffer, message: Buffer) => this.deliver(ch.toString(), message.toString()))
      this.subscriber = sub
    }
    this.subscriber.subscribe(full).catch((err) => this.log.warn(`redis: cannot subscribe to ${full}: ${err.message}`))
  }

  private deliver(channel: string, message: string): void {
    const handler = this.handlers.get(channel)
    const cut = message.indexOf('|')
    if (handler === undefined || cut < 0) return
    const from = message.slice(0, cut)
    if (from === this.engineId) return
    try {
      handler(from, message.slice(cut + 1))
    } catch (err) {
      this.log.warn(`redis: a cluster message on ${channel} could not be handled: ${(err as Error).message}`)
    }
  }

  /** Sends `body` to the other engines on `channel`; never throws (a failure is logged). */
  publish(channel: string, body: string): void {
    this.client.publish(this.prefix + channel, `${this.engineId}|${body}`).catch((err) => {
      const now = Date.now()
      if (now - this.lastPublishError < 5000) return
      this.lastPublishError = now
      this.log.warn(`redis: a cluster message could not be sent (other engines miss it): ${err.message}`)
    })
  }

  async stop(): Promise<void> {
    const commands = this.commands
    const subscriber = this.subscriber
    this.commands = null
    this.subscriber = null
    this.handlers.clear()
    if (subscriber) await closeClient(subscriber)
    if (commands) await closeClient(commands)
  }
}

/** A Redis URL without its password, for logs. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
}
