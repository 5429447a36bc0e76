import type { ApiRequest, FlowContext, StepConfig } from 'motia'
import { z } from 'zod'
import { timing } from '../../lib/middleware.ts'
import { GROUP } from '../../lib/store.ts'
import type { Todo } from '../../streams/todos.stream.ts'

export const config: StepConfig = {
  name: 'ListTodos',
  description: 'Lists todos, oldest first; ?done=true|false filters',
  triggers: [
    {
      type: 'api',
      path: '/todos',
      method: 'GET',
      middleware: [timing],
      querySchema: z.object({ done: z.enum(['true', 'false']).optional() }),
    },
  ],
  flows: ['todos'],
}

export const handler = async (req: ApiRequest, ctx: FlowContext) => {
  const all = (await ctx.streams.todos.getGroup(GROUP)) as Todo[]
  const done = req.query_params.done
  const todos = done === undefined ? all : all.filter((t) => String(t.done) === done)
  todos.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  return { status: 200, body: todos }
}
