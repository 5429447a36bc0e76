/**
 * Running an API trigger: schema validation (400 before anything else runs), the middleware
 * chain (first listed outermost) and the handler; a throw anywhere becomes a 500 whose body
 * holds only an error id, while the stack is logged with that id.
 */
import { randomUUID } from 'node:crypto'
import { type Check, compileSchema } from './schema.js'
import type { ApiHandler, ApiRequest, ApiResponse, ApiTrigger, FlowContext, Middleware } from './types.js'

/** Composes `middleware` around `handler`; each gets `next(req?, ctx?)` for the rest. */
export function composeMiddleware(middleware: readonly Middleware[], handler: ApiHandler): ApiHandler {
  return middleware.reduceRight<ApiHandler>(
    (next, mw) => (req, ctx) => mw(req, ctx, async (r = req, c = ctx) => next(r, c)),
    handler,
  )
}

const compiled = new WeakMap<object, Check>()

/** The compiled check of a schema (compiled once per schema object). */
function checkOf(schema: object, coerce: boolean): Check {
  let c = compiled.get(schema)
  if (c === undefined) {
    c = compileSchema(schema, coerce)
    compiled.set(schema, c)
  }
  return c
}

/**
 * Compiles a trigger's body and query schemas now, so a JSON Schema that does not compile is
 * a load error naming the field rather than a 500 at the first request.
 * @throws Error `config.triggers[i].bodySchema: <why>`
 */
export function precompile(trigger: ApiTrigger, at: string): void {
  for (const [schema, field, coerce] of [
    [trigger.bodySchema, 'bodySchema', false],
    [trigger.querySchema, 'querySchema', true],
  ] as const) {
    if (schema === undefined || schema === null) continue
    try {
      checkOf(schema as object, coerce)
    } catch (err) {
      throw new Error(`${at}.${field}: ${(err as Error).message}`)
    }
  }
}

/** A 400 response when the body or query does not match its schema; `undefined` when they do. */
export function validateRequest(trigger: ApiTrigger, req: ApiRequest): ApiResponse | undefined {
  for (const [schema, field] of [
    [trigger.bodySchema, 'body'],
    [trigger.querySchema, 'query_params'],
  ] as const) {
    if (schema === undefined || schema === null) continue
    // query strings arrive as text: a JSON Schema query may coerce "5" to 5
    const r = checkOf(schema as object, field === 'query_params')(req[field])
    if (!r.ok) return { status: 400, body: { error: 'validation_failed', in: field, issues: r.issues } }
    ;(req as unknown as Record<string, unknown>)[field] = r.value
    if (field === 'query_params') req.queryParams = r.value as ApiRequest['queryParams']
  }
  return undefined
}

/** The status of a handler's answer (`status`, `status_code`, or 204/200 when none is given). */
function statusOf(res: unknown): number {
  const r = res as { status?: unknown; status_code?: unknown } | null | undefined
  if (typeof r?.status === 'number') return r.status
  if (typeof r?.status_code === 'number') return r.status_code
  return r === undefined || r === null ? 204 : 200
}

/** 4xx answers are logged at info with their status (a client error is not the server's). */
function logClientError(ctx: FlowContext, req: ApiRequest, res: ApiResponse): void {
  const status = statusOf(res)
  if (status < 400 || status >= 500) return
  const body = res.body as { error?: unknown; in?: unknown } | undefined
  const why =
    typeof body?.error === 'string' ? ` ${body.error}${typeof body.in === 'string' ? ` (${body.in})` : ''}` : ''
  ctx.logger.info(`${req.method} ${req.path} answered ${status}${why}`, { status })
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
    if (invalid !== undefined) {
      logClientError(ctx, req, invalid)
      return invalid
    }
    const chain = trigger.middleware?.length ? composeMiddleware(trigger.middleware, handler) : handler
    const res = await chain(req, ctx)
    if (res !== undefined && res !== null) logClientError(ctx, req, res)
    return res
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
