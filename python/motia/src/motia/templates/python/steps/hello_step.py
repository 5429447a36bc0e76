"""POST /hello {"name": ...}: answers a greeting and emits it as an event."""

from typing import Any

from pydantic import BaseModel, Field

from motia import ApiRequest, ApiResponse, ApiTrigger, FlowContext, StepConfig, step_wrapper


class Hello(BaseModel):
    name: str = Field(min_length=1)


class Greeting(BaseModel):
    message: str


config = StepConfig(
    name="Hello",
    description="Greets someone and emits hello.sent",
    triggers=[
        ApiTrigger(
            path="/hello",
            method="POST",
            body_schema=Hello,
            response_schema={200: Greeting},
        )
    ],
    emits=["hello.sent"],
)


async def handler(req: ApiRequest[Hello], ctx: FlowContext[Any]) -> ApiResponse[Greeting]:
    message = f"Hello, {req.body.name}!"
    await ctx.emit("hello.sent", {"name": req.body.name})
    return ApiResponse(status=200, body=Greeting(message=message))


step_wrapper(config, __file__, handler)
