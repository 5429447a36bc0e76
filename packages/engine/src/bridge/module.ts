/**
 * The worker bridge: the WebSocket edge workers connect to. It runs one {@link WsEndpoint}
 * (heartbeat, bad-frame budget, timeouts) and gives every connection a
 * {@link WorkerConnection}, which decodes its frames for the core and is the core's link to it.
 */
import type { Engine } from '../core/engine.js'
import type { EngineModule } from '../modules/module.js'
import { WsEndpoint } from '../net/ws-endpoint.js'
import { WorkerConnection } from './connection.js'

export class BridgeModule implements EngineModule {
  readonly name = 'bridge'
  private endpoint?: WsEndpoint
  private address = ''

  constructor(private readonly engine: Engine) {}

  async start(): Promise<void> {
    const engine = this.engine
    const { host, port, bridge } = engine.options
    this.endpoint = new WsEndpoint({
      name: 'bridge',
      host,
      port,
      maxPayload: bridge.maxPayload,
      heartbeatMs: bridge.heartbeatMs,
      maxBadFrames: bridge.maxBadFrames,
      upgradeMessage: 'the iii bridge speaks WebSocket only',
      connected: (peer) => {
        const conn = new WorkerConnection(engine, peer)
        const worker = conn.attach()
        engine.log.debug(`worker ${worker.id} connected`)
        return {
          message: (data, isBinary) =>
            conn.receive(isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString()),
          close: () => {
            engine.log.debug(`worker ${worker.id} disconnected`)
            conn.detach()
          },
          error: (err) => engine.log.debug(`worker ${worker.id} socket error: ${err.message}`),
          missed: () => {
            engine.log.warn(`worker ${worker.id} missed a heartbeat; closing it`)
            conn.detach()
          },
        }
      },
    })
    this.address = await this.endpoint.start()
  }

  addresses(): Record<string, string> {
    return { bridge: this.address }
  }

  async stop(): Promise<void> {
    const endpoint = this.endpoint
    this.endpoint = undefined
    await endpoint?.stop('engine shutting down')
  }
}
