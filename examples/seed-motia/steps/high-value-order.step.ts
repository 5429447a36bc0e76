// "Condition Function Signature" (TypeScript), as written in the description.
import type { FlowContext, StepConfig } from 'motia'

// biome-ignore lint/correctness/noUnusedFunctionParameters: the signature as the description writes it
const conditionName = (input: any, ctx: FlowContext): boolean => {
  // Evaluate based on input data
  return input?.amount > 1000
}

export const config: StepConfig = {
  name: 'HighValueOrder',
  description: 'Runs only for orders over 1000 (a synchronous condition)',
  triggers: [{ type: 'event', topic: 'order.placed', condition: conditionName }],
  flows: ['seed'],
}

export const handler = async (input: { id: string; amount: number }, ctx: FlowContext) => {
  ctx.logger.info(`high value order ${input.id}`)
  await ctx.state.set('high-value-orders', input.id, input)
}
