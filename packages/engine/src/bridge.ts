/**
 * The worker bridge: the WebSocket edge. It decodes frames, hands them to the engine core,
 * writes answers back, keeps sockets alive with pings and closes abusive ones.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { errorFrame } from '@iii-dev/protocol'
import { type WebSocket, WebSocketServer } from 'ws'
import type { Engine } from './engine.js'
import { ErrorCode, IIIError, toWireError } from './errors.js'
import type { EngineModule } from './modules/types.js'
import { hostForUrl, listen } from './net.js'
import {
  decodeFrame,
  encodeResult,
  encodeResultError,
  type Frame,
  frameRef,
  type InvokeFunctionFrame,
} from './protocol.js'
import { Worker } from './worker.js'

export class BridgeModule implements EngineModule {
  readonly name = 'bridge'
  private engine!: Engine
  private http?: Server
  private wss?: WebSocketServer
  private heartbeat?: NodeJS.Timeout
  private address = ''

  constructor(private readonly core: Engine) {}

  async start(): Promise<void> {
    this.engine = this.core
    const { host, port, bridge } = this.engine.options
    this.http = createServer({ headersTimeout: 10_000, requestTimeout: 10_000, connectionsCheckingInterval: 1000 })
    this.http.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'application/json', upgrade: 'websocket' })
      res.end(JSON.stringify({ error: 'upgrade_required', message: 'the iii bridge speaks WebSocket only' }))
    })
    this.wss = new WebSocketServer({ server: this.http, maxPayload: bridge.maxPayload, perMessageDeflate: false })
    this.wss.on('connection', (socket, req) => this.accept(socket, req))
    // The HTTP server's listen errors reach `listen()` below; ws re-emits them here as well.
    this.wss.on('error', () => {})
    const addr = await listen(this.http, port, host, 'bridge')
    this.address = `ws://${hostForUrl(host)}:${addr.port}`
    this.heartbeat = setInterval(() => this.beat(), bridge.heartbeatMs)
    this.heartbeat.unref()
  }

  addresses(): Record<string, string> {
    return { bridge: this.address }
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat)
    const wss = this.wss
    const http = this.http
    this.wss = undefined
    this.http = undefined
    if (wss === undefined || http === undefined) return
    for (const socket of wss.clients) socket.close(1001, 'engine shutting down')
    await new Promise<void>((resolve) => wss.close(() => resolve()))
    for (const socket of wss.clients) socket.terminate()
    http.closeAllConnections()
    await new Promise<void>((resolve) => http.close(() => resolve()))
  }

  private beat(): void {
    for (const worker of this.engine.workers.values()) {
      if (!worker.alive) {
        this.engine.log.warn(`worker ${worker.id} missed a heartbeat; closing it`)
        worker.terminate()
        this.engine.removeWorker(worker)
        continue
      }
      worker.alive = false
      worker.ping()
    }
  }

  private accept(socket: WebSocket, _req: IncomingMessage): void {
    const engine = this.engine
    const worker = engine.addWorker((id) => new Worker(id, socket))
    engine.log.debug(`worker ${worker.id} connected`)
    socket.on('pong', () => {
      worker.alive = true
    })
    socket.on('message', (data, isBinary) => {
      worker.alive = true
      this.onMessage(worker, isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString())
    })
    socket.on('close', () => {
      engine.log.debug(`worker ${worker.id} disconnected`)
      engine.removeWorker(worker)
    })
    socket.on('error', (err) => engine.log.debug(`worker ${worker.id} socket error: ${err.message}`))
    worker.send(JSON.stringify({ type: 'workerregistered', worker_id: worker.id }))
  }

  private onMessage(worker: Worker, text: string): void {
    let frame: Frame
    try {
      frame = decodeFrame(text)
    } catch (err) {
      this.refuse(worker, err, frameRefOf(text))
      return
    }
    worker.badFrames = 0
    try {
      this.dispatch(worker, frame)
    } catch (err) {
      this.refuse(worker, err, frameRef(frame))
    }
  }

  private refuse(worker: Worker, err: unknown, ref: string | undefined): void {
    worker.send(errorFrame(toWireError(err), ref))
    if (++worker.badFrames >= this.engine.options.bridge.maxBadFrames) {
      worker.close(1008, 'too many bad frames')
    }
  }

  private dispatch(worker: Worker, frame: Frame): void {
    const engine = this.engine
    switch (frame.type) {
      case 'invokefunction':
        return this.invoke(worker, frame)
      case 'invocationresult':
        return engine.settle(worker, frame.invocation_id, frame.result, frame.error)
      case 'registerfunction':
        return engine.addWorkerFunction(worker, frame.function_path, {
          description: frame.description,
          metadata: frame.metadata,
          request_format: frame.request_format,
          response_format: frame.response_format,
        })
      case 'unregisterfunction':
        return engine.removeWorkerFunction(worker, frame.function_path)
      case 'registertrigger': {
        const { id, trigger_type, function_path, config } = frame
        engine.triggers
          .register({ id, trigger_type, function_path, config, owner: worker.id })
          .catch((err) => worker.send(errorFrame(toWireError(err), id)))
        return
      }
      case 'unregistertrigger': {
        const owner = engine.triggers.owner(frame.id)
        if (owner !== undefined && owner !== worker.id) {
          throw new IIIError(ErrorCode.TriggerConflict, `trigger ${frame.id} belongs to another worker`)
        }
        void engine.triggers.unregister(frame.id)
        return
      }
      case 'registercondition':
        return engine.addCondition(frame.function_path, frame.condition_function_path, worker.id)
      case 'unregistercondition':
        return engine.removeCondition(frame.function_path, frame.condition_function_path, worker.id)
      case 'registertriggertype':
        return engine.triggers.addWorkerType(worker, frame.id, frame.description)
      case 'unregistertriggertype':
        return engine.triggers.removeWorkerType(worker, frame.id)
      case 'triggerregistrationresult':
        return engine.triggers.registrationResult(worker, frame.id, frame.error)
      case 'registerservice': {
        const { type: _type, ...service } = frame
        worker.services.set(frame.id, service)
        return
      }
      case 'ping':
        return worker.send('{"type":"pong"}')
      case 'pong':
        return
      case 'workerregistered':
      case 'error':
        throw new IIIError(ErrorCode.InvalidMessage, `${frame.type} frames are sent by the engine, not to it`)
    }
  }

  private invoke(worker: Worker, frame: InvokeFunctionFrame): void {
    const { invocation_id: id, function_path: path } = frame
    const call = this.engine.invoke(path, frame.data ?? null, {
      trigger: frame.trigger,
      traceparent: frame.traceparent,
      baggage: frame.baggage,
      timeoutMs: frame.timeout_ms,
      workerId: worker.id,
      raw: true,
    })
    if (id === undefined) {
      call.catch((err) => this.engine.log.debug(`fire-and-forget call to ${path} failed: ${toWireError(err).message}`))
      return
    }
    call.then(
      (result) => worker.send(encodeResult(id, path, result)),
      (err) => worker.send(encodeResultError(id, path, toWireError(err))),
    )
  }
}

/** Best-effort `ref` for a frame that failed to decode: its type or id, if the JSON parsed. */
function frameRefOf(text: string): string | undefined {
  if (text.length > 65_536) return undefined
  try {
    return frameRef(JSON.parse(text))
  } catch {
    return undefined
  }
}
