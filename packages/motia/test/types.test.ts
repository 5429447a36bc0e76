/**
 * `motia generate-types` and the TypeScript compiler on a fixture project (fixtures/typed):
 * before the types exist everything is loose (the rejected file compiles); after, the correct
 * steps compile and each wrong line of `rejected/emits.ts` is an error from tsc — a wrong
 * emit's data, an emit of a topic nobody subscribes to, a stream item of the wrong shape and a
 * handler input used as the wrong type.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { repoRoot } from '@iii-dev/testkit'
import { copyFixture, motiaCli } from './helpers.ts'

const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc')

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 120_000 })
  return { code: r.status, out: `${r.stdout}${r.stderr}` }
}

test('generate-types makes tsc accept the correct emit and reject the wrong one', (t) => {
  const dir = copyFixture(t, 'typed')
  const loose = run([tsc, '--noEmit', '-p', 'tsconfig.rejected.json'], dir)
  assert.equal(loose.code, 0, `without types.d.ts everything is loosely typed:\n${loose.out}`)

  const gen = run(['--import', 'tsx', motiaCli, 'generate-types', dir], repoRoot)
  assert.equal(gen.code, 0, gen.out)
  assert.match(gen.out, /wrote .*types\.d\.ts: 2 step\(s\), 1 stream\(s\)/)
  const types = readFileSync(join(dir, 'types.d.ts'), 'utf8')
  assert.match(types, /"order\.placed": \{ "id": string; "amount": number \}/)
  assert.match(types, /"carts": MotiaStream<\{ "id": string; "items": string\[\]; "total": number \}>/)

  const good = run([tsc, '--noEmit', '-p', 'tsconfig.json'], dir)
  assert.equal(good.code, 0, `the correct steps compile:\n${good.out}`)

  const bad = run([tsc, '--noEmit', '-p', 'tsconfig.rejected.json'], dir)
  assert.equal(bad.code, 2, `the rejected file must not compile:\n${bad.out}`)
  const errors = bad.out.split('\n').filter((l) => l.startsWith('rejected/emits.ts('))
  const at = (line: number) => errors.find((e) => e.startsWith(`rejected/emits.ts(${line},`))
  assert.match(at(5) ?? '', /error TS2769: No overload matches this call/, 'emit with amount: "twelve"')
  assert.match(bad.out, /Type 'string' is not assignable to type 'number'/)
  assert.match(at(6) ?? '', /error TS2769/, 'emit of a topic no step subscribes to')
  assert.match(bad.out, /'"order\.shipped"' is not assignable to parameter of type '"order\.placed"'/)
  assert.match(at(7) ?? '', /error TS2322: Type 'number' is not assignable to type 'string'/, 'a cart item of numbers')
  assert.match(at(8) ?? '', /error TS2322: Type 'number' is not assignable to type 'string'/, 'body.amount is a number')
  assert.equal(errors.length, 4, `exactly the four wrong lines:\n${bad.out}`)
})

test('the original-style step files type-check against these types (Handlers<typeof config> infers the bodies)', (t) => {
  const dir = copyFixture(t, 'original')
  const r = run([tsc, '-p', 'tsconfig.json'], dir)
  assert.equal(r.code, 0, r.out)
  // with the generated types (augmenting '@iii-dev/motia', the name these files import) too
  const gen = run(['--import', 'tsx', motiaCli, 'generate-types', dir], repoRoot)
  assert.equal(gen.code, 0, gen.out)
  assert.match(readFileSync(join(dir, 'types.d.ts'), 'utf8'), /declare module '@iii-dev\/motia'/)
  const typed = run([tsc, '-p', 'tsconfig.json'], dir)
  assert.equal(typed.code, 0, typed.out)
  // and the inferred types are real ones, not any: a wrong use of a body field is refused
  const file = join(dir, 'steps/create-todo.step.ts')
  const text = readFileSync(file, 'utf8')
  writeFileSync(
    file,
    text.replace(
      'const { description, dueDate } = request.body',
      'const { description, dueDate } = request.body\n  const wrong: number = description',
    ),
  )
  const bad = run([tsc, '-p', 'tsconfig.json'], dir)
  assert.equal(bad.code, 2, bad.out)
  assert.match(
    bad.out,
    /create-todo\.step\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/,
  )
})
