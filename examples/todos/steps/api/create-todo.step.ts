import { randomUUID } from 'node:crypto'
import type { ApiRequest, FlowContext, StepConfig } from 'motia'
import { z } from 'zod'
import { timing } from '../../lib/middleware.ts'
import { GROUP } from '../../lib/store.ts'
import type { Todo } from '../../streams/todos.stream.ts'

export const config: StepConfig = {
  name: 'CreateTodo',
  description: 'Adds a todo to the todos stream and emits todo.created',
  triggers: [
    {
      type: 'api',
      path: '/todos',
      method: 'POST',
      middleware: [timing],
      bodySchema: z.object({ title: z.string().trim().min(1).max(200) }),
    },
  ],
  emits: ['todo.created'],
  flows: ['todos'],
}

export const handler = async (req: ApiRequest<{ title: string }>, ctx: FlowContext) => {
  const now = new Date().toISOString()
  const todo: Todo = {
    id: randomUUID().slice(0, 8),
    title: req.body.title,
    done: false,
    createdAt: now,
    updatedAt: now,
  }
  await ctx.streams.todos.set(GROUP, todo.id, todo)
  await ctx.emit('todo.created', todo)
  ctx.logger.info(`created todo ${todo.id}`)
  return { status: 201, body: todo }
}
