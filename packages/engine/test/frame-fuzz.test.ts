/**
 * Fuzzing the bridge's frame decoder through a real socket (R11): random and mutated frames,
 * seeded from protocol/vectors.json. The engine never answers `internal_error`, every error
 * frame carries a string code, the engine stays up, and another worker is served meanwhile.
 * Seeded and deterministic: FUZZ_RUNS and FUZZ_SEED (defaults 3000 and 4242) change the amount
 * and the seed, for `npm run fuzz`.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { repoRoot, startEngine } from '@iii-dev/testkit'
import fc from 'fast-check'
import { RawClient, sleep } from './raw.ts'

const vectors = JSON.parse(readFileSync(join(repoRoot, 'protocol/vectors.json'), 'utf8')) as {
  valid: Array<{ frame: Record<string, unknown> }>
  invalid: Array<{ raw?: string; frame?: unknown }>
}
const RUNS = Number(process.env.FUZZ_RUNS ?? 3000)
const SEED = Number(process.env.FUZZ_SEED ?? 4242)
const ROUND = 1000

const seeds = [
  ...vectors.valid.map((v) => JSON.stringify(v.frame)),
  ...vectors.invalid.map((v) => v.raw ?? JSON.stringify(v.frame)),
]

/** A seed with one field replaced by any JSON value, or cut short, or with bytes flipped. */
const mutated = fc.oneof(
  fc
    .tuple(fc.constantFrom(...vectors.valid.map((v) => v.frame)), fc.string(), fc.jsonValue())
    .map(([f, k, v]) => JSON.stringify({ ...f, [Object.keys(f)[k.length % Object.keys(f).length]]: v })),
  fc.tuple(fc.constantFrom(...seeds), fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1))),
  fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.string({ minLength: 1, maxLength: 4 })).map(([s, n, junk]) => {
    const at = n % (s.length + 1)
    return s.slice(0, at) + junk + s.slice(at + junk.length)
  }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record({ type: fc.string(), function_path: fc.oneof(fc.string(), fc.jsonValue()), data: fc.jsonValue() })
    .map((r) => JSON.stringify(r)),
  fc.string(),
)

test(`${RUNS} random and mutated frames (seed ${SEED}): coded errors only, no crash, others served`, async (t) => {
  const engine = await startEngine(t, { config: 'bridge:\n  max_bad_frames: 100000\n' })
  const worker = await RawClient.connect(t, engine.bridgeUrl)
  worker.register('fz.echo', (d) => d)
  const caller = await RawClient.connect(t, engine.bridgeUrl)
  const frames = fc.sample(mutated, { numRuns: RUNS, seed: SEED })
  for (let round = 0; round * ROUND < frames.length; round++) {
    const fuzz = await RawClient.connect(t, engine.bridgeUrl)
    const batch = frames.slice(round * ROUND, (round + 1) * ROUND).filter((f) => f !== '')
    for (const f of batch) fuzz.send(f)
    const at = Date.now()
    assert.equal((await caller.call('fz.echo', { round })).result?.round, round, 'the other worker is served')
    assert.ok(Date.now() - at < 2000, 'promptly')
    await sleep(200)
    const errors = fuzz.frames.filter((f) => f.type === 'error')
    assert.ok(errors.length > batch.length / 10, `error frames answered (${errors.length} of ${batch.length})`)
    for (const e of errors) {
      assert.equal(typeof e.code, 'string', JSON.stringify(e))
      assert.notEqual(e.code, 'internal_error', JSON.stringify(e))
    }
    fuzz.ws.terminate()
  }
  assert.equal(engine.proc.exitCode, null, 'the engine is up')
})
