// "Multi-Trigger Architecture": one handler, three trigger types; ctx.trigger tells them apart.
import type { FlowContext, StepConfig } from 'motia'

export const config: StepConfig = {
  name: 'ProcessReport',
  description: 'Builds a report on request, on an event, or every hour',
  triggers: [
    { type: 'api', path: '/reports', method: 'POST' }, // steps.ProcessReport:trigger:0
    { type: 'event', topic: 'report.requested' }, // steps.ProcessReport:trigger:1
    { type: 'cron', expression: '0 * * * *' }, // steps.ProcessReport:trigger:2
  ],
  flows: ['seed'],
}

// biome-ignore lint/correctness/noUnusedFunctionParameters: the handler signature every trigger shares
export const handler = async (input: any, ctx: FlowContext) => {
  // Access trigger information
  if (ctx.trigger.type === 'api') {
    ctx.logger.info(`API ${ctx.trigger.method} ${ctx.trigger.path}`)
  } else if (ctx.trigger.type === 'event') {
    ctx.logger.info(`Event ${ctx.trigger.topic}`)
  } else if (ctx.trigger.type === 'cron') {
    ctx.logger.info(`Cron ${ctx.trigger.expression}`)
  }
  // Access trigger index
  ctx.logger.info(`Trigger index: ${ctx.trigger.index}`)

  const report = { via: ctx.trigger.type, index: ctx.trigger.index, data: ctx.input.data }
  await ctx.state.set('reports', ctx.trigger.type, report)
  if (ctx.trigger.type === 'api') return { status: 200, body: report }
}
