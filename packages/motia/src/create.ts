/**
 * `motia create <dir>`: a small project that runs at once with `npx motia dev`. Its
 * package.json depends on this repository's packages by `file:` paths (computed from where
 * motia is installed), never on the unrelated registry packages that share their names.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The directory of an installed package, from its main entry (`<pkg>/dist/index.js`). */
function packageDir(specifier: string): string {
  return realpathSync(dirname(dirname(fileURLToPath(import.meta.resolve(specifier)))))
}

/** Where this repository's packages are: motia itself, the SDK and the engine. */
export function localPackages(): Record<string, string> {
  return {
    motia: realpathSync(dirname(dirname(fileURLToPath(import.meta.url)))),
    '@iii-dev/sdk': packageDir('@iii-dev/sdk'),
    '@iii-dev/engine': packageDir('@iii-dev/engine'),
  }
}

const files: Record<string, string> = {
  'tsconfig.json': `${JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: true,
        noEmit: true,
        allowImportingTsExtensions: true,
      },
      include: ['steps', 'streams'],
    },
    null,
    2,
  )}\n`,
  '.gitignore': 'node_modules\n.motia\n',
  'streams/greetings.stream.ts': `import { z } from 'zod'

export const config = {
  name: 'greetings',
  schema: z.object({ name: z.string(), at: z.string() }),
}
`,
  'steps/hello.step.ts': `import { z } from 'zod'
import type { ApiRequest, FlowContext, StepConfig } from 'motia'

export const config: StepConfig = {
  name: 'Hello',
  description: 'Greets someone and emits "greeted"',
  triggers: [
    {
      type: 'api',
      path: '/hello',
      method: 'POST',
      bodySchema: z.object({ name: z.string().min(1) }),
    },
  ],
  emits: ['greeted'],
  flows: ['greetings'],
}

export const handler = async (req: ApiRequest<{ name: string }>, ctx: FlowContext) => {
  ctx.logger.info(\`hello \${req.body.name}\`)
  await ctx.emit('greeted', { name: req.body.name })
  return { status: 200, body: { message: \`Hello, \${req.body.name}!\`, traceId: ctx.traceId } }
}
`,
  'steps/record-greeting.step.ts': `import type { FlowContext, StepConfig } from 'motia'

export const config: StepConfig = {
  name: 'RecordGreeting',
  description: 'Counts greetings in state and shows them on the greetings stream',
  triggers: [{ type: 'event', topic: 'greeted' }],
  flows: ['greetings'],
}

export const handler = async (input: { name: string }, ctx: FlowContext) => {
  const count = ((await ctx.state.get<number>('greetings', input.name)) ?? 0) + 1
  await ctx.state.set('greetings', input.name, count)
  await ctx.streams.greetings.set('all', input.name, { name: input.name, at: new Date().toISOString() })
  ctx.logger.info(\`\${input.name} was greeted \${count} time(s)\`)
}
`,
  'steps/greetings.step.ts': `import type { FlowContext, StepConfig } from 'motia'

export const config: StepConfig = {
  name: 'ListGreetings',
  triggers: [{ type: 'api', path: '/greetings', method: 'GET' }],
  flows: ['greetings'],
}

export const handler = async (_req: unknown, ctx: FlowContext) => {
  return { status: 200, body: await ctx.streams.greetings.getGroup('all') }
}
`,
}

function readme(name: string): string {
  return `# ${name}

A Motia project on the iii engine.

    npm install        # once (motia create already did it unless --skip-install)
    npx motia dev      # starts an engine if none runs, loads steps/, reloads on change

Then:

    curl -X POST localhost:3111/hello -H 'content-type: application/json' -d '{"name":"Ada"}'
    curl localhost:3111/greetings

Edit a file under \`steps/\` and \`motia dev\` reloads that step.
`
}

export interface CreateOptions {
  /** Run `npm install` in the new project. Default true. */
  install?: boolean
  log?: (line: string) => void
}

/** Writes the project; refuses a directory that exists and is not empty. */
export function createProject(dir: string, options: CreateOptions = {}): void {
  const root = resolve(dir)
  const log = options.log ?? ((l: string) => process.stdout.write(`${l}\n`))
  if (existsSync(root) && readdirSync(root).length > 0) {
    throw new Error(`${root} already exists and is not empty`)
  }
  const name =
    basename(root)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-') || 'motia-app'
  const deps: Record<string, string> = {}
  for (const [pkg, path] of Object.entries(localPackages())) deps[pkg] = `file:${path}`
  deps.zod = '4.6.7'
  const pkg = {
    name,
    version: '0.0.0',
    private: true,
    type: 'module',
    scripts: { dev: 'motia dev', start: 'motia start' },
    dependencies: deps,
  }
  const all: Record<string, string> = {
    'package.json': `${JSON.stringify(pkg, null, 2)}\n`,
    'README.md': readme(name),
    ...files,
  }
  for (const [rel, text] of Object.entries(all)) {
    const p = join(root, rel)
    mkdirSync(dirname(p), { recursive: true })
    writeFileSync(p, text)
  }
  log(`created ${root}`)
  if (options.install !== false) {
    log('running npm install ...')
    const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' })
    if (r.status !== 0) throw new Error(`npm install failed in ${root} (exit ${r.status ?? r.signal})`)
  }
  log(`\nnext:\n  cd ${dir}${options.install === false ? '\n  npm install' : ''}\n  npx motia dev`)
}
