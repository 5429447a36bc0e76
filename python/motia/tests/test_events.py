"""Durable events from Motia steps on a real engine: emit options and the retry fields."""

from __future__ import annotations

import asyncio
from typing import Any

from iii import Bridge, Events
from motia import (
    ApiRequest,
    ApiResponse,
    ApiTrigger,
    EventTrigger,
    FlowContext,
    StepConfig,
    step_wrapper,
)


async def test_event_trigger_retry_fields_and_emit_options(bridge: Bridge) -> None:
    """An event step's max_attempts/backoff reach the engine; ctx.emit passes idempotency_key."""
    attempts: list[Any] = []

    async def flaky(data: Any, ctx: FlowContext) -> None:
        attempts.append(data)
        raise RuntimeError("always")

    step_wrapper(
        StepConfig(
            name="MotiaRetry",
            triggers=[
                EventTrigger(
                    topic="motia.retry",
                    max_attempts=2,
                    backoff={"type": "fixed", "initial_ms": 20, "jitter": False},
                    concurrency=4,
                )
            ],
        ),
        __file__,
        flaky,
    )
    answers: list[Any] = []

    async def emitter(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
        for _ in range(2):
            answers.append(await ctx.emit("motia.retry", {"n": 1}, idempotency_key="once"))
        return ApiResponse(status=200, body={})

    step_wrapper(
        StepConfig(name="MotiaEmitter", triggers=[ApiTrigger(path="/motia-emit", method="POST")]),
        __file__,
        emitter,
    )
    await bridge.connect()
    events = Events(bridge)
    for _ in range(100):
        triggers = (await bridge.invoke_function("engine.triggers.list", {}))["triggers"]
        mine = [t for t in triggers if t["function_path"] == "steps.MotiaRetry:trigger:0"]
        if mine:
            break
        await asyncio.sleep(0.05)
    assert mine[0]["config"]["max_attempts"] == 2
    assert mine[0]["config"]["concurrency"] == 4
    await bridge.invoke_function("steps.MotiaEmitter:trigger:0", {"body": {}})
    assert answers[1] == {"event_id": answers[0]["event_id"], "duplicate": True}
    for _ in range(100):
        dead = (await events.list_dead_letters(topic="motia.retry"))["items"]
        if dead:
            break
        await asyncio.sleep(0.05)
    assert len(dead) == 1 and dead[0]["attempts"] == 2
    assert attempts == [{"n": 1}, {"n": 1}]
