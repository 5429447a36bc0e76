// B11 (R11): a well-behaved worker's invoke latency while other connections send garbage.
// One engine and one SDK echo worker (pinned with the engine); the caller (SDK, 1 call in
// flight, 300 B) measures p50/p99 alone and while 4 abusive connections send bad frames
// (bench/load/abuser.mjs: invalid JSON, unknown types, wrongly typed and engine-only frames,
// a frame nested too deep, calls to a function nobody serves), paced at 3000 frames/s in
// total; the abusers run beside the caller on the load CPU. The engine's bad-frame budget is
// raised so they are not closed (a closed one reconnects). Rounds alternate alone and abused
// (A B, then B A). Reference rows: the abusers flat out; and `decoy`, the same paced abuser
// process sending to a raw `ws` echo server on the engine's CPU instead of the engine, which
// is what sharing two cores with it costs the caller whatever the engine does.
import { join } from 'node:path'
import { root, runJson, startEngine, startProcess, summarize, tmpFile } from './lib.mjs'

const ABUSERS = 4
const PACED_PER_S = 3000

export async function b11({ rounds, durationMs, smoke, pin }) {
  const cpuSut = pin ? 0 : undefined
  const cpuLoad = pin ? 1 : undefined
  const config = tmpFile('b11-engine.yaml', 'bridge:\n  max_bad_frames: 1000000000\n')
  const engine = await startEngine({ cpu: cpuSut, config })
  const worker = await startProcess(join(root, 'bench/servers/iii-worker.mjs'), [], {
    env: { III_BRIDGE_URL: engine.bridgeUrl },
    cpu: cpuSut,
  })
  const echo = await startProcess(join(root, 'bench/servers/ws-echo.mjs'), [], { cpu: cpuSut })
  const echoUrl = echo.output().match(/ws:\S+/)[0]
  const warmupMs = smoke ? 200 : 500
  /** Per mode: the abusers' total rate (null: none, 0: flat out) and where they send. */
  const modes = {
    alone: { rate: null },
    abused: { rate: PACED_PER_S, url: engine.bridgeUrl },
    decoy: { rate: PACED_PER_S, url: echoUrl },
    flood: { rate: 0, url: engine.bridgeUrl },
  }
  const samples = {}
  const failures = []
  try {
    for (let round = 0; round < rounds; round++) {
      const order = Object.keys(modes)
      if (round % 2 === 1) order.reverse()
      for (const mode of order) {
        const { rate, url } = modes[mode]
        let abuser = null
        if (rate !== null) {
          abuser = await startProcess(
            join(root, 'bench/load/abuser.mjs'),
            [url, String(ABUSERS), String(rate), String(warmupMs + durationMs + 300)],
            { cpu: cpuLoad },
          )
        }
        const r = await runJson(
          join(root, 'bench/load/iii-client.mjs'),
          [engine.bridgeUrl, '1', '300', String(durationMs), String(warmupMs)],
          { cpu: cpuLoad },
        )
        const s = (samples[mode] ??= { per_s: [], p50_us: [], p99_us: [], bad_per_s: [], closes: [] })
        s.per_s.push(r.per_s)
        s.p50_us.push(r.p50_us)
        s.p99_us.push(r.p99_us)
        if (abuser !== null) {
          const code = await new Promise((resolve) => {
            if (abuser.proc.exitCode !== null) resolve(abuser.proc.exitCode)
            else abuser.proc.once('exit', resolve)
          })
          const lines = abuser.output().trim().split('\n')
          if (code !== 0) throw new Error(`abuser exited with ${code}:\n${abuser.output()}`)
          const a = JSON.parse(lines[lines.length - 1])
          s.bad_per_s.push(a.per_s)
          s.closes.push(a.closes)
          // Every paced bad frame is answered with an error (an `error` frame or an error
          // result); flat out, the engine (and the abuser, busy sending) still work through a
          // backlog at the end, so only the paced run at the engine is checked (the decoy echoes).
          if (mode === 'abused' && a.errors < a.sent)
            failures.push(`B11 ${mode}: ${a.errors} error answers for ${a.sent} bad frames`)
        }
        if (engine.proc.exitCode !== null) throw new Error(`the engine exited (${engine.proc.exitCode})`)
      }
    }
  } finally {
    await worker.stop()
    await engine.stop()
    await echo.stop()
  }
  const rows = Object.entries(samples).map(([mode, s]) => ({
    mode,
    abusers: modes[mode].rate === null ? 0 : ABUSERS,
    bad_frames_per_s: s.bad_per_s.length > 0 ? summarize(s.bad_per_s) : 0,
    abusers_closed: s.closes.length > 0 ? summarize(s.closes) : 0,
    calls_per_s: summarize(s.per_s),
    p50_us: summarize(s.p50_us),
    p99_us: summarize(s.p99_us),
  }))
  const get = (mode) => rows.find((r) => r.mode === mode)
  const p99 = get('abused').p99_us.median / get('alone').p99_us.median
  const p50 = get('abused').p50_us.median / get('alone').p50_us.median
  const floodP99 = get('flood').p99_us.median / get('alone').p99_us.median
  const decoyP99 = get('decoy').p99_us.median / get('alone').p99_us.median
  const targets = [
    {
      name: `p99 at 1 in flight while ${ABUSERS} connections send ${PACED_PER_S} bad frames/s vs alone`,
      ratio: p99,
      target: '<= 2.0',
      met: p99 <= 2.0,
    },
    { name: 'p50 at 1 in flight, abused vs alone', ratio: p50, target: '(reference)', met: null },
    {
      name: `p99 at 1 in flight while the same abuser sends ${PACED_PER_S} frames/s to a raw ws echo instead vs alone`,
      ratio: decoyP99,
      target: '(reference: the cost of sharing 2 cores)',
      met: null,
    },
    {
      name: `p99 at 1 in flight while ${ABUSERS} connections send bad frames flat out vs alone`,
      ratio: floodP99,
      target: '(reference)',
      met: null,
    },
  ]
  return { id: 'B11', title: 'invoke latency while other connections send bad frames', rows, targets, failures }
}
