// B6 load: opens many raw WebSocket connections from one process. IPC commands:
//   connect {url, count, kind}  kind "iii": each socket is a worker speaking the bridge protocol
//     (docs/protocol.md): 5 `registerfunction`, 5 `registertrigger` (api routes), then one
//     `invokefunction` of its own last function through the engine; it answers the engine's
//     calls with their data. A worker counts as registered when that call came back (frames
//     on one socket are handled in order). kind "ws": plain sockets that send one frame and
//     wait for its echo. Answers {ms}: first connect to the last socket done. At most
//     CONNECTING handshakes are in flight at once.
//   verify {url}  counts the functions and api triggers the engine lists (`engine.*.list`).
//   close  closes every socket.
import WebSocket from 'ws'
import { serveIpc } from '../lib.mjs'

const CONNECTING = 256
const FUNCTIONS = 5
let sockets = []

function worker(url, i, kind) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    sockets.push(ws)
    ws.on('error', reject)
    ws.on('open', () => {
      if (kind === 'ws') return ws.send('{"type":"ping"}')
      const frames = []
      for (let j = 0; j < FUNCTIONS; j++) {
        const function_path = `w${i}.f${j}`
        frames.push({ type: 'registerfunction', function_path })
        frames.push({
          type: 'registertrigger',
          id: `w${i}.t${j}`,
          trigger_type: 'api',
          function_path,
          config: { api_path: `/w${i}/r${j}`, http_method: 'GET' },
        })
      }
      frames.push({ type: 'invokefunction', invocation_id: 'ready', function_path: `w${i}.f${FUNCTIONS - 1}`, data: i })
      for (const f of frames) ws.send(JSON.stringify(f))
    })
    ws.on('message', (raw) => {
      if (kind === 'ws') return resolve()
      const msg = JSON.parse(raw.toString())
      if (msg.type === 'invokefunction' && msg.invocation_id)
        ws.send(
          JSON.stringify({
            type: 'invocationresult',
            invocation_id: msg.invocation_id,
            function_path: msg.function_path,
            result: msg.data,
          }),
        )
      else if (msg.type === 'invocationresult' && msg.invocation_id === 'ready') {
        if (msg.error || msg.result !== i) reject(new Error(`worker ${i}: ${JSON.stringify(msg)}`))
        else resolve()
      } else if (msg.type === 'error') reject(new Error(`worker ${i}: engine error ${JSON.stringify(msg)}`))
    })
  })
}

function call(url, frames) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    const results = {}
    ws.on('error', reject)
    ws.on('open', () => {
      for (const f of frames)
        ws.send(JSON.stringify({ type: 'invokefunction', invocation_id: f, function_path: f, data: {} }))
    })
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString())
      if (msg.type !== 'invocationresult') return
      results[msg.invocation_id] = msg.result
      if (Object.keys(results).length === frames.length) {
        ws.close()
        resolve(results)
      }
    })
  })
}

serveIpc({
  connect: async ({ url, count, kind }) => {
    const t0 = performance.now()
    let next = 0
    const lane = async () => {
      while (next < count) await worker(url, next++, kind)
    }
    await Promise.all(Array.from({ length: Math.min(CONNECTING, count) }, lane))
    return { ms: performance.now() - t0 }
  },
  verify: async ({ url }) => {
    const r = await call(url, ['engine.functions.list', 'engine.triggers.list'])
    return {
      functions: r['engine.functions.list'].functions.filter((f) => /^w\d+\.f\d+$/.test(f.function_path)).length,
      routes: r['engine.triggers.list'].triggers.filter((t) => /^w\d+\.t\d+$/.test(t.id)).length,
    }
  },
  close: async () => {
    const closing = sockets.map(
      (ws) =>
        new Promise((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve()
          ws.once('close', resolve)
          ws.close()
        }),
    )
    await Promise.all(closing)
    sockets = []
  },
})
console.log('ready')
