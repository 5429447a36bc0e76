// "Context and State": emit, state, streams and logger from the FlowContext, and the SDK's
// `Stream` exactly as the description's Node.js stream example uses it.
import { Stream } from '@iii-dev/sdk'
import type { ApiRequest, FlowContext, StepConfig } from 'motia'

// Define stream
const todoStream = new Stream('todos')

export const config: StepConfig = {
  name: 'ContextTour',
  triggers: [{ type: 'api', path: '/context-tour', method: 'POST' }],
  emits: ['user.created'],
  flows: ['seed'],
}

export const handler = async (_req: ApiRequest, ctx: FlowContext) => {
  ctx.logger.info('Processing started')
  await ctx.emit('user.created', { id: '123' })

  await ctx.state.set('config', 'theme', 'dark')
  const theme = await ctx.state.get('config', 'theme')

  // Set item
  await todoStream.set('inbox', 'item-1', {
    title: 'Buy milk',
    completed: false,
  })
  // Get item
  const item = await todoStream.get('inbox', 'item-1')
  // Get all items in group
  const allItems = await todoStream.getGroup('inbox')

  return { status: 200, body: { theme, item, count: allItems.length, traceId: ctx.traceId } }
}
