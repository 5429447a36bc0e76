"""The guide's ApiRequest / ApiResponse snippets on real routes.

``GET /users/:userId/posts/:postId`` echoes ``path_params``; ``GET /users`` echoes
``query_params``; ``POST /users`` echoes ``body``; every answer sets a custom header and echoes
the ``authorization`` header.
"""

from motia import ApiRequest, ApiResponse, ApiTrigger, FlowContext, StepConfig, step_wrapper

config = StepConfig(
    name="request-tour",
    triggers=[
        ApiTrigger(path="/users/:userId/posts/:postId", method="GET"),
        ApiTrigger(path="/users", method="GET"),
        ApiTrigger(path="/users", method="POST"),
    ],
)


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    # --- the guide's examples, as written ---
    # Route: /users/:userId/posts/:postId
    # Request: GET /users/123/posts/456
    req.path_params  # {"userId": "123", "postId": "456"}
    # Request: GET /users?status=active&limit=10
    req.query_params  # {"status": "active", "limit": "10"}
    # POST /users with {"name": "Alice"}
    req.body  # {"name": "Alice"}
    req.headers.get("authorization")
    # --- end of the guide's examples ---
    echo = {
        "path_params": req.path_params,
        "query_params": req.query_params,
        "body": req.body,
        "authorization": req.headers.get("authorization"),
    }
    if ctx.trigger.index == 2:
        return ApiResponse(status=200, body={"message": "Success", **echo})
    return ApiResponse(status=200, body=echo, headers={"X-Custom-Header": "value"})


step_wrapper(config, __file__, handler)
