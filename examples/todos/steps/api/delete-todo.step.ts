import type { ApiRequest, FlowContext, StepConfig } from 'motia'
import { timing } from '../../lib/middleware.ts'
import { GROUP } from '../../lib/store.ts'

export const config: StepConfig = {
  name: 'DeleteTodo',
  triggers: [{ type: 'api', path: '/todos/:id', method: 'DELETE', middleware: [timing] }],
  flows: ['todos'],
}

export const handler = async (req: ApiRequest, ctx: FlowContext) => {
  const old = await ctx.streams.todos.delete(GROUP, req.path_params.id)
  return old === null ? { status: 404, body: { error: 'not_found' } } : { status: 204 }
}
