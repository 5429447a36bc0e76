"""On hello.sent: counts the greetings per name in state (GET /hello/:name reads it)."""

from typing import Any

from motia import (
    ApiRequest,
    ApiResponse,
    ApiTrigger,
    EventTrigger,
    FlowContext,
    StepConfig,
    step_wrapper,
)

config = StepConfig(
    name="CountGreetings",
    triggers=[
        EventTrigger(topic="hello.sent"),
        ApiTrigger(path="/hello/:name", method="GET"),
    ],
)


async def handler(input: Any, ctx: FlowContext[Any]) -> Any:
    if isinstance(input, ApiRequest):
        item = await ctx.state.get("greetings", input.path_params["name"])
        return ApiResponse(status=200, body={"count": (item or {}).get("count", 0)})
    ops = [{"type": "increment", "path": "count", "by": 1}]
    await ctx.state.update("greetings", input["name"], ops)
    return None


step_wrapper(config, __file__, handler)
