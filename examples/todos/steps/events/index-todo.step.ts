import type { FlowContext, StepConfig } from 'motia'
import { STATS } from '../../lib/store.ts'
import type { Todo } from '../../streams/todos.stream.ts'

export const config: StepConfig = {
  name: 'IndexTodo',
  description: 'Counts new todos and emits todo.indexed',
  triggers: [{ type: 'event', topic: 'todo.created' }],
  emits: ['todo.indexed'],
  flows: ['todos'],
}

export const handler = async (todo: Todo, ctx: FlowContext) => {
  await ctx.state.update(...STATS, [{ type: 'increment', path: 'created', by: 1 }])
  ctx.logger.info(`indexed todo ${todo.id}`)
  await ctx.emit('todo.indexed', { id: todo.id, words: todo.title.split(/\s+/).length })
}
