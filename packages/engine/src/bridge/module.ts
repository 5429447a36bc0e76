/**
 * The worker bridge: the WebSocket edge workers connect to. It runs one {@link WsEndpoint}
 * (heartbeat, bad-frame budget, timeouts) and gives every connection a
 * {@link WorkerConnection}, which decodes its frames for the core and is the core's link to it.
 */
import type { Engine } from '../core/engine.js'
import type { EngineModule } from '../modules/module.js'
import { WsEndpoint } from '../net/ws-endpoint.js'
import { WorkerConnection } from './connection.js'
import { isTelemetryFrame } from './frames.js'

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
      connected: (peer, _context, req) => {
        const conn = new WorkerConnection(engine, peer, req.socket.remoteAddress)
        const worker = conn.attach()
        engine.log.debug(`worker ${worker.id} connected`)
        return {
          message: (data, isBinary) => {
            if (!isBinary) return conn.receive(data.toString())
            const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)])
            if (isTelemetryFrame(bytes)) return // the original SDK's OTLP/MTRC/LOGS frames: dropped quietly
            conn.receive(bytes.toString('utf8'))
          },
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
