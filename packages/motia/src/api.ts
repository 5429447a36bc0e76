/**
 * Running an API trigger: schema validation (400 before anything else runs), the middleware
 * chain (first listed outermost) and the handler; a throw anywhere becomes a 500 whose body
 * holds only an error id, while the stack is logged with that id.
 */
import { randomUUID } from 'node:crypto'
import type { ApiRequest, ApiResponse } from '@iii-dev/sdk'
import type { ApiHandler, ApiTrigger, FlowContext, Middleware, Schema } from './types.js'

/** Composes `middleware` around `handler`; each gets `next(req?, ctx?)` for the rest. */
export function composeMiddleware(middleware: readonly Middleware[], handler: ApiHandler): ApiHandler {
  return middleware.reduceRight<ApiHandler>(
    (next, mw) => (req, ctx) => mw(req, ctx, async (r = req, c = ctx) => next(r, c)),
    handler,
  )
}

function validate(schema: Schema, value: unknown): { ok: true; value: unknown } | { ok: false; issues: unknown[] } {
  const r = schema.safeParse(value)
  return r.success ? { ok: true, value: r.data } : { ok: false, issues: r.error.issues }
}

/** Issues as plain JSON (Zod issues may hold non-JSON values such as bigint or functions). */
function jsonIssues(issues: unknown[]): unknown[] {
  return issues.map((i) => {
    const o = i as Record<string, unknown>
    const out: Record<string, unknown> = { path: o.path, message: o.message }
    if (typeof o.code === 'string') out.code = o.code
    return out
  })
}

/** A 400 response when the body or query does not match its schema; `undefined` when they do. */
export function validateRequest(trigger: ApiTrigger, req: ApiRequest): ApiResponse | undefined {
  for (const [schema, field] of [
    [trigger.bodySchema, 'body'],
    [trigger.querySchema, 'query_params'],
  ] as const) {
    if (schema === undefined) continue
    const r = validate(schema, req[field])
    if (!r.ok) {
      return { status: 400, body: { error: 'validation_failed', in: field, issues: jsonIssues(r.issues) } }
    }
    ;(req as unknown as Record<string, unknown>)[field] = r.value
  }
  return undefined
}

/** Runs validation, middleware and handler; never throws. */
export async function runApi(
  trigger: ApiTrigger,
  handler: ApiHandler,
  req: ApiRequest,
  ctx: FlowContext,
): Promise<ApiResponse> {
  try {
    const invalid = validateRequest(trigger, req)
    if (invalid !== undefined) return invalid
    const chain = trigger.middleware?.length ? composeMiddleware(trigger.middleware, handler) : handler
    return await chain(req, ctx)
  } catch (err) {
    const errorId = randomUUID()
    const e = err instanceof Error ? err : new Error(String(err))
    ctx.logger.error(`step ${ctx.step} failed (error_id ${errorId}): ${e.stack ?? e.message}`, { error_id: errorId })
    return {
      status: 500,
      body: { error: 'internal_error', message: 'the request could not be handled', error_id: errorId },
    }
  }
}
