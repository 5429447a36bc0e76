import type { Middleware } from 'motia'

/** Adds `x-response-time` (ms) and logs every request with its status. */
export const timing: Middleware = async (req, ctx, next) => {
  const started = performance.now()
  const res = await next()
  const ms = (performance.now() - started).toFixed(1)
  ctx.logger.info(`${req.method} ${req.path} -> ${res.status ?? 200} in ${ms} ms`)
  return { ...res, headers: { ...res.headers, 'x-response-time': ms } }
}
