/**
 * Installable outside the repository (Python): `scripts/pack.mjs --python-only` builds the
 * `iii` and `motia` wheels; a fresh venv in a folder in the system temp directory installs them
 * (with their dependencies from PyPI), imports them from the venv, and serves a Python step
 * from that folder (`python -m motia run`) against a real engine.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { startEngine } from '@iii-dev/testkit'
import { http, repoRoot, run, start } from './lib.ts'

const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'iii-install-python-')))
after(() => rmSync(tmp, { recursive: true, force: true }))

test('the packed wheels install in a fresh venv outside the repository and serve a Python step', async (t) => {
  const app = join(tmp, 'app')
  mkdirSync(app)
  // The venv is made while packing; the repository venv's pip installs into it (pip --python),
  // which spares the new venv its own copy of pip.
  const venv = run('python3', ['-m', 'venv', '--without-pip', '.venv'], { cwd: app })
  const out = await run(
    process.execPath,
    [join(repoRoot, 'scripts/pack.mjs'), '--python-only', '--out', join(tmp, 'dist')],
    {
      cwd: repoRoot,
    },
  )
  await venv
  const { wheels } = JSON.parse(out.trim().split('\n').at(-1) as string) as { wheels: string[] }
  assert.deepEqual(wheels.map((w) => w.split('/').at(-1)).sort(), [
    'iii-0.1.0-py3-none-any.whl',
    'motia-0.1.0-py3-none-any.whl',
  ])
  const python = join(app, '.venv/bin/python')
  await run(
    join(repoRoot, '.venv/bin/pip'),
    ['--python', python, 'install', '--quiet', '--disable-pip-version-check', ...wheels],
    {
      cwd: app,
    },
  )
  const where = await run(python, ['-c', 'import iii, motia; print(iii.__file__); print(motia.__file__)'], { cwd: app })
  for (const line of where.trim().split('\n')) assert.ok(line.startsWith(join(app, '.venv')), `${line} is in the venv`)

  mkdirSync(join(app, 'steps'))
  writeFileSync(
    join(app, 'steps/greet_step.py'),
    `from motia import ApiResponse, ApiTrigger, StepConfig, step_wrapper

config = StepConfig(name="Greet", triggers=[ApiTrigger(path="/greet", method="POST")])


async def handler(req, ctx):
    return ApiResponse(status=200, body={"greeting": "hi " + req.body["name"]})


step_wrapper(config, __file__, handler)
`,
  )
  const engine = await startEngine(t)
  const py = start(t, python, ['-m', 'motia', 'run', 'steps'], { cwd: app, env: { III_BRIDGE_URL: engine.bridgeUrl } })
  await py.waitFor('motia ready')
  assert.deepEqual(await http(engine.apiUrl, 'POST', '/greet', { name: 'Bo' }), {
    status: 200,
    body: { greeting: 'hi Bo' },
  })
})
