/**
 * The TypeScript project `motia create <dir>` writes: a stream, an API step that emits, an
 * event step that keeps state, and a README whose commands run as written.
 */
/** The files of a TypeScript project, by path. */
export const nodeFiles: Record<string, string> = {
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

/** The project's README: the commands to install, run and call it. */
export function nodeReadme(name: string): string {
  return `# ${name}

A Motia project on the iii engine.

\`\`\`sh
npm install        # once (motia create already did it unless --skip-install)
npx motia dev      # starts an engine if none runs, loads steps/, reloads on change
\`\`\`

Then, from another terminal:

\`\`\`sh
curl -s -X POST localhost:3111/hello -H 'content-type: application/json' -d '{"name":"Ada"}'
curl -s localhost:3111/greetings
\`\`\`

Edit a file under \`steps/\` and \`motia dev\` reloads that step.

\`vendor/\` holds the iii and Motia packages this project was created with; \`package.json\`
refers to them by relative paths, so the folder installs anywhere (commit \`vendor/\` with it).
`
}
