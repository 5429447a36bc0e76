// A Node Motia step for the Python interop test: handles `interop.created` (emitted by a
// Python API step) and reports what it got, with its trace id, on `interop.handled`.
import type { FlowContext, StepConfig } from 'motia'

export const config: StepConfig = {
  name: 'NodeOnCreated',
  triggers: [{ type: 'event', topic: 'interop.created' }],
}

export const handler = async (data: unknown, ctx: FlowContext) => {
  await ctx.emit('interop.handled', { data, trace_id: ctx.traceId })
}
