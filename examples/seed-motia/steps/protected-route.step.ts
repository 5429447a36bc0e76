// "Middleware Composition": the description's auth middleware, in TypeScript.
import type { ApiRequest, ApiResponse, FlowContext, Middleware, StepConfig } from 'motia'

async function validateToken(token: string): Promise<{ name: string } | null> {
  return token === 'Bearer let-me-in' ? { name: 'Ada' } : null
}

// Define middleware
const authMiddleware: Middleware = async (req, ctx, nextHandler) => {
  // Before handler
  const token = req.headers.authorization as string | undefined
  if (!token) {
    return { status: 401, body: { error: 'Unauthorized' } }
  }

  // Validate token
  const user = await validateToken(token)
  if (!user) {
    return { status: 401, body: { error: 'Invalid token' } }
  }

  // Inject into context
  ctx.user = user

  // Call next handler
  const response = await nextHandler(req, ctx)

  // After handler (optional)
  response.headers = { ...response.headers, 'X-Request-ID': ctx.traceId }

  return response
}

// Use middleware in step
export const config: StepConfig = {
  name: 'protected-route',
  triggers: [{ type: 'api', path: '/protected', method: 'GET', middleware: [authMiddleware] }],
  flows: ['seed'],
}

// biome-ignore lint/correctness/noUnusedFunctionParameters: the signature as the description writes it
export const handler = async (req: ApiRequest, ctx: FlowContext): Promise<ApiResponse> => {
  // ctx.user is available here
  const user = ctx.user as { name: string }
  return { status: 200, body: { message: `Hello, ${user.name}` } }
}
