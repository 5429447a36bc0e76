// "Or async": the asynchronous condition of the description, as written.
import type { FlowContext, StepConfig } from 'motia'
import { fetchUser } from '../lib/users.ts'

const asyncCondition = async (input: any, ctx: FlowContext): Promise<boolean> => {
  const user = await fetchUser(input?.userId)
  return user.isVerified
}

export const config: StepConfig = {
  name: 'VerifiedUserAction',
  description: 'Runs only for verified users (an asynchronous condition)',
  triggers: [{ type: 'event', topic: 'user.action', condition: asyncCondition }],
  flows: ['seed'],
}

export const handler = async (input: { userId: string; action: string }, ctx: FlowContext) => {
  await ctx.state.set('verified-actions', input.userId, input.action)
}
