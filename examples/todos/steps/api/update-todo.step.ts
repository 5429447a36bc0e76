import type { ApiRequest, FlowContext, StepConfig } from 'motia'
import { z } from 'zod'
import { timing } from '../../lib/middleware.ts'
import { GROUP } from '../../lib/store.ts'
import type { Todo } from '../../streams/todos.stream.ts'

export const config: StepConfig = {
  name: 'UpdateTodo',
  description: 'Renames a todo or marks it done; emits todo.updated',
  triggers: [
    {
      type: 'api',
      path: '/todos/:id',
      method: 'PATCH',
      middleware: [timing],
      bodySchema: z
        .object({ title: z.string().trim().min(1).max(200).optional(), done: z.boolean().optional() })
        .refine((b) => b.title !== undefined || b.done !== undefined, 'give a title or done'),
    },
  ],
  emits: ['todo.updated'],
  flows: ['todos'],
}

export const handler = async (req: ApiRequest<{ title?: string; done?: boolean }>, ctx: FlowContext) => {
  const id = req.path_params.id
  const todo = (await ctx.streams.todos.get(GROUP, id)) as Todo | null
  if (todo === null) return { status: 404, body: { error: 'not_found', message: `no todo ${id}` } }
  const next: Todo = { ...todo, ...req.body, updatedAt: new Date().toISOString() }
  await ctx.streams.todos.set(GROUP, id, next)
  await ctx.emit('todo.updated', { before: todo, after: next })
  return { status: 200, body: next }
}
