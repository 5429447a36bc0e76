import type { FlowContext, StepConfig } from 'motia'
import { STATS } from '../../lib/store.ts'
import type { Todo } from '../../streams/todos.stream.ts'

type Update = { before: Todo; after: Todo }

export const config: StepConfig = {
  name: 'TodoCompleted',
  description: 'Counts todos that became done (a condition filters the other updates)',
  triggers: [
    {
      type: 'event',
      topic: 'todo.updated',
      condition: (input: Update) => !input.before.done && input.after.done,
    },
  ],
  flows: ['todos'],
}

export const handler = async (input: Update, ctx: FlowContext) => {
  await ctx.state.update(...STATS, [{ type: 'increment', path: 'completed', by: 1 }])
  ctx.logger.info(`todo ${input.after.id} completed`)
}
