/**
 * The worker bridge: the WebSocket edge workers connect to. It runs one {@link WsEndpoint}
 * (heartbeat, bad-frame budget, timeouts) and gives every connection a
 * {@link WorkerConnection}, which decodes its frames for the core and is the core's link to it.
 */
import type { Engine } from '../core/engine.js'
import type { Policy } from '../core/policy.js'
import type { EngineModule } from '../modules/module.js'
import { WsEndpoint } from '../net/ws-endpoint.js'
import { Authenticator, checkExposure } from './auth.js'
import { WorkerConnection } from './connection.js'

export class BridgeModule implements EngineModule {
  readonly name = 'bridge'
  private endpoint?: WsEndpoint
  private address = ''

  constructor(private readonly engine: Engine) {}

  async start(): Promise<void> {
    const engine = this.engine
    const { host, port, bridge, insecure } = engine.options
    checkExposure(host, bridge.auth, insecure)
    const auth = bridge.auth === null ? undefined : new Authenticator(bridge.auth, engine)
    const authFunction = bridge.auth?.function
    this.endpoint = new WsEndpoint({
      name: 'bridge',
      host,
      port,
      maxPayload: bridge.maxPayload,
      heartbeatMs: bridge.heartbeatMs,
      maxBadFrames: bridge.maxBadFrames,
      maxFramesPerSecond: bridge.limits.maxFramesPerSecond ?? 100_000,
      headerTimeoutMs: engine.options.headerTimeoutMs,
      upgradeMessage: 'the iii bridge speaks WebSocket only',
      admit: auth && ((req) => auth.admit(req)),
      connected: (peer, context, req) => {
        const conn = new WorkerConnection(
          engine,
          peer,
          bridge.limits,
          context as Policy | undefined,
          authFunction,
          req.socket.remoteAddress,
        )
        conn.attach()
        return conn
      },
    })
    this.address = await this.endpoint.start()
  }

  addresses(): Record<string, string> {
    return { bridge: this.address }
  }

  /** Refuses new worker connections; the connected workers keep serving until `stop`. */
  drain(): void {
    this.endpoint?.drain()
  }

  async stop(): Promise<void> {
    const endpoint = this.endpoint
    this.endpoint = undefined
    await endpoint?.stop('engine shutting down')
  }
}
