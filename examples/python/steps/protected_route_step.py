"""The guide's "Example Middleware" step, as written (``validate_token`` defined here).

``GET /protected`` with ``Authorization: Bearer secret-token`` answers ``Hello, Alice``.
"""

from motia import ApiRequest, ApiResponse, ApiTrigger, FlowContext, StepConfig, step_wrapper

USERS = {"secret-token": {"name": "Alice"}}


async def validate_token(token: str):
    """The guide leaves this undefined: a token table lookup, Bearer prefix optional."""
    return USERS.get(token.removeprefix("Bearer ").strip())


# --- the guide's example, as written ---
# Define middleware
async def auth_middleware(req: ApiRequest, ctx: FlowContext, next_handler):
    # Before handler
    token = req.headers.get("authorization")
    if not token:
        return ApiResponse(status=401, body={"error": "Unauthorized"})

    # Validate token
    user = await validate_token(token)
    if not user:
        return ApiResponse(status=401, body={"error": "Invalid token"})

    # Inject into context
    ctx.user = user

    # Call next handler
    response = await next_handler(req, ctx)

    # After handler (optional)
    response.headers["X-Request-ID"] = ctx.trace_id

    return response


# Use middleware in step
config = StepConfig(
    name="protected-route",
    triggers=[ApiTrigger(path="/protected", method="GET", middleware=[auth_middleware])],
)


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    # ctx.user is available here
    return ApiResponse(status=200, body={"message": f"Hello, {ctx.user['name']}"})


step_wrapper(config, __file__, handler)
# --- end of the guide's example ---
