import type { FlowContext, StepConfig } from 'motia'
import { STATS } from '../../lib/store.ts'

export const config: StepConfig = {
  name: 'Stats',
  description: 'The counters kept by the event chain and the cron step',
  triggers: [{ type: 'api', path: '/stats', method: 'GET' }],
  flows: ['todos'],
}

export const handler = async (_req: unknown, ctx: FlowContext) => ({
  status: 200,
  body: (await ctx.state.get(...STATS)) ?? { created: 0, indexed: 0, completed: 0 },
})
