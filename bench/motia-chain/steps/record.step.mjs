export const config = {
  name: 'ChainRecord',
  triggers: [{ type: 'event', topic: 'chain.started' }],
}

export const handler = async (input, ctx) => {
  const run = { id: input.id, status: 'recorded' }
  await ctx.state.set('chain', input.id, run)
  await ctx.streams.chain.set('runs', input.id, run)
}
