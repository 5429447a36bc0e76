import type { FlowContext, StepConfig } from 'motia'
import { STATS } from '../../lib/store.ts'

export const config: StepConfig = {
  name: 'TodoIndexed',
  description: 'The end of the created chain: counts indexed todos',
  triggers: [{ type: 'event', topic: 'todo.indexed' }],
  flows: ['todos'],
}

export const handler = async (input: { id: string; words: number }, ctx: FlowContext) => {
  await ctx.state.update(...STATS, [{ type: 'increment', path: 'indexed', by: 1 }])
  ctx.logger.info(`todo ${input.id} indexed (${input.words} word(s))`)
}
