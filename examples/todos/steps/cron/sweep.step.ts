import type { FlowContext, StepConfig } from 'motia'
import { GROUP, STATS } from '../../lib/store.ts'
import type { Todo } from '../../streams/todos.stream.ts'

/** Done todos older than this are swept away (TODOS_SWEEP_AFTER_MS, default one day). */
const AFTER_MS = Number(process.env.TODOS_SWEEP_AFTER_MS ?? 86_400_000)

export const config: StepConfig = {
  name: 'SweepTodos',
  description: 'Every minute: removes todos that have been done for a while',
  triggers: [{ type: 'cron', expression: process.env.TODOS_SWEEP_CRON ?? '* * * * *' }],
  flows: ['todos'],
}

export const handler = async (_tick: unknown, ctx: FlowContext) => {
  const todos = (await ctx.streams.todos.getGroup(GROUP)) as Todo[]
  const cutoff = Date.now() - AFTER_MS
  let swept = 0
  for (const t of todos) {
    if (t.done && Date.parse(t.updatedAt) <= cutoff) {
      await ctx.streams.todos.delete(GROUP, t.id)
      swept++
    }
  }
  if (swept > 0) {
    await ctx.state.update(...STATS, [{ type: 'increment', path: 'swept', by: swept }])
    ctx.logger.info(`swept ${swept} done todo(s)`)
  }
}
