/**
 * Hot reload: `motia dev` on a copy of fixtures/reload; files are changed, added and removed
 * while it runs, and the new behaviour is seen over HTTP.
 */
import assert from 'node:assert/strict'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { Bridge } from '@iii-dev/sdk'
import { eventually, startEngine } from '@iii-dev/testkit'
import { copyFixture, http, startMotia } from './helpers.ts'

for (const kind of ['commonjs', 'module'] as const) {
  test(`motia dev reloads a step when its file, or a file it imports, changes (${kind} project)`, async (t) => {
    const engine = await startEngine(t)
    const dir = copyFixture(t, 'reload')
    // tsx compiles .ts as CommonJS unless the project's package.json says "type": "module"
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'reload-fixture', private: true, type: kind }))
    const motia = startMotia(t, ['dev', dir], { III_BRIDGE_URL: engine.bridgeUrl })
    await motia.waitFor('[motia] ready')
    const api = engine.apiUrl
    const greet = async () => (await http(api, 'GET', '/greet')).body
    assert.deepEqual(await greet(), { text: 'hello v1' })

    const stepFile = join(dir, 'steps/greet.step.ts')
    const original = readFileSync(stepFile, 'utf8')

    // 1. the handler changes and a condition is added
    let mark = motia.output().length
    writeFileSync(
      stepFile,
      original
        .replace('v1', 'v2')
        .replace(
          "method: 'GET' }",
          "method: 'GET', condition: (req: ApiRequest) => req.query_params.deny === undefined }",
        ),
    )
    await motia.waitFor('reload done', 10_000, mark)
    assert.deepEqual(await greet(), { text: 'hello v2' })
    assert.equal((await http(api, 'GET', '/greet?deny=1')).status, 422)

    // 1b. a second condition is added after it: both are bound, in order
    mark = motia.output().length
    writeFileSync(
      stepFile,
      original
        .replace('v1', 'v2b')
        .replace(
          "method: 'GET' }",
          "method: 'GET', condition: [(req: ApiRequest) => req.query_params.deny === undefined, " +
            '(req: ApiRequest) => req.query_params.block === undefined] }',
        ),
    )
    await motia.waitFor('reload done', 10_000, mark)
    assert.deepEqual(await greet(), { text: 'hello v2b' })
    assert.equal((await http(api, 'GET', '/greet?deny=1')).status, 422)
    assert.equal((await http(api, 'GET', '/greet?block=1')).status, 422)

    // 2. the conditions are removed again: unbound (unregistercondition) and unregistered
    mark = motia.output().length
    writeFileSync(stepFile, original.replace('v1', 'v3'))
    await motia.waitFor('reload done', 10_000, mark)
    for (const q of ['deny', 'block']) {
      const r = await http(api, 'GET', `/greet?${q}=1`)
      assert.equal(r.status, 200)
      assert.deepEqual(r.body, { text: 'hello v3' })
    }
    const observer = new Bridge({ url: engine.bridgeUrl, logLevel: 'warn', forwardLogs: false })
    t.after(() => observer.close())
    const { functions } = await observer.invokeFunction('engine.functions.list', {})
    const paths = functions.map((f: { function_path: string }) => f.function_path)
    assert.ok(paths.includes('steps.Greet:trigger:0'))
    assert.deepEqual(
      paths.filter((p: string) => p.startsWith('steps.Greet:trigger:0:condition')),
      [],
      'no condition function is left behind',
    )

    // 3. a helper the step imports changes
    mark = motia.output().length
    writeFileSync(join(dir, 'lib/text.ts'), "export const greeting = 'howdy'\n")
    await motia.waitFor('reload done', 10_000, mark)
    assert.deepEqual(await greet(), { text: 'howdy v3' })

    // 4. a new step file appears, then a broken edit keeps the running version
    mark = motia.output().length
    writeFileSync(
      join(dir, 'steps/bye.step.ts'),
      "export const config = { name: 'Bye', triggers: [{ type: 'api', path: '/bye', method: 'GET' }] }\n" +
        'export const handler = async () => ({ status: 200, body: { bye: true } })\n',
    )
    await motia.waitFor('loaded step Bye', 10_000, mark)
    await eventually(async () => (await http(api, 'GET', '/bye')).status === 200)
    mark = motia.output().length
    writeFileSync(join(dir, 'steps/bye.step.ts'), 'export const config = {{{ not typescript\n')
    await motia.waitFor('cannot load', 10_000, mark)
    assert.equal((await http(api, 'GET', '/bye')).status, 200)

    // 5. the step file is removed: its route goes away
    mark = motia.output().length
    rmSync(join(dir, 'steps/bye.step.ts'))
    await motia.waitFor('removed step Bye', 10_000, mark)
    await eventually(async () => (await http(api, 'GET', '/bye')).status === 404)
    assert.deepEqual(await greet(), { text: 'howdy v3' })
  })
}
