"""The guide's FlowContext snippets (emit, trigger, state, streams, logger) in one step.

``POST /context`` runs them and answers what they produced; the step also listens to
``context.ping`` events and runs every minute, so ``ctx.trigger`` shows all three types.
"""

from motia import (
    ApiRequest,
    ApiResponse,
    ApiTrigger,
    CronTrigger,
    EventTrigger,
    FlowContext,
    StepConfig,
    Stream,
    step_wrapper,
)

config = StepConfig(
    name="context-tour",
    triggers=[
        ApiTrigger(path="/context", method="POST"),
        EventTrigger(topic="context.ping"),
        CronTrigger(expression="* * * * *"),
    ],
)


async def handler(input, ctx: FlowContext):
    # --- the guide's examples, as written ---
    await ctx.emit("user.created", {"id": "123"})

    # Access trigger information
    if ctx.trigger.type == "api":
        print(f"API {ctx.trigger.method} {ctx.trigger.path}")
    elif ctx.trigger.type == "event":
        print(f"Event {ctx.trigger.topic}")
    elif ctx.trigger.type == "cron":
        print(f"Cron {ctx.trigger.expression}")

    # Access trigger index
    print(f"Trigger index: {ctx.trigger.index}")

    await ctx.state.set("config", "theme", "dark")
    theme = await ctx.state.get("config", "theme")

    todo_stream = Stream("todos")
    await todo_stream.set("inbox", "item-1", {"title": "Buy milk"})

    ctx.logger.info("Processing started")
    try:
        raise RuntimeError("example failure")
    except RuntimeError:
        ctx.logger.error("An error occurred", exc_info=True)
    # --- end of the guide's examples ---

    if isinstance(input, ApiRequest):
        return ApiResponse(
            status=200,
            body={
                "theme": theme,
                "todo": await todo_stream.get("inbox", "item-1"),
                "trigger": {"type": ctx.trigger.type, "index": ctx.trigger.index},
                "trace_id": ctx.trace_id,
            },
        )
    return None


step_wrapper(config, __file__, handler)
