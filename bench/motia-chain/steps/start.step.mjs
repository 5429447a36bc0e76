export const config = {
  name: 'ChainStart',
  triggers: [{ type: 'api', path: '/chain', method: 'POST' }],
  emits: ['chain.started'],
}

export const handler = async (req, ctx) => {
  await ctx.emit('chain.started', { id: String(req.body.id) })
  return { status: 202, body: { id: req.body.id } }
}
