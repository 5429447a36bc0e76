import type { FlowContext, StepConfig } from 'motia'

export const config: StepConfig = {
  name: 'UserCreated',
  triggers: [{ type: 'event', topic: 'user.created' }],
  flows: ['seed'],
}

export const handler = async (input: { id: string }, ctx: FlowContext) => {
  ctx.logger.info(`user ${input.id} created`)
  await ctx.state.set('users-created', input.id, { traceId: ctx.traceId })
}
