"""Steps on a real engine: API with middleware, events with conditions, context, paths."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import pytest

from iii import Bridge
from iii.testing import EngineProcess, http_json
from motia import (
    ApiRequest,
    ApiResponse,
    ApiTrigger,
    CronTrigger,
    EventTrigger,
    FlowContext,
    StepConfig,
    step_wrapper,
)


async def _http(method: str, url: str, body: Any = None, **kw: Any) -> Any:
    return await asyncio.to_thread(http_json, method, url, body, **kw)


async def _collector(bridge: Bridge, topic: str) -> asyncio.Queue[Any]:
    got: asyncio.Queue[Any] = asyncio.Queue()

    async def collect(data: Any) -> None:
        await got.put(data)

    bridge.register_function(f"test.collect.{topic}", collect)
    bridge.register_trigger("event", f"test.collect.{topic}", {"topic": topic})
    return got


async def test_function_paths_match_node_convention(bridge: Bridge) -> None:
    """Trigger i of step Name is steps.Name:trigger:i; its condition adds :condition."""
    config = StepConfig(
        name="PathStep",
        triggers=[
            EventTrigger(topic="path.a"),
            EventTrigger(topic="path.b", condition=lambda i, c: True),
            EventTrigger(topic="path.c", condition=[lambda i, c: True, lambda i, c: True]),
        ],
    )
    step = step_wrapper(config, __file__, lambda data, ctx: None)
    assert step.function_paths == [
        "steps.PathStep:trigger:0",
        "steps.PathStep:trigger:1",
        "steps.PathStep:trigger:2",
    ]
    await bridge.connect()
    listed = await bridge.invoke_function("engine.functions.list", {})
    paths = {f["function_path"] for f in listed["functions"]}
    assert {
        "steps.PathStep:trigger:0",
        "steps.PathStep:trigger:1",
        "steps.PathStep:trigger:1:condition",
        "steps.PathStep:trigger:2:condition",
        "steps.PathStep:trigger:2:condition:1",
    } <= paths
    assert "steps.PathStep:trigger:1:condition:1" not in paths


async def test_event_condition_on_event_data(bridge: Bridge) -> None:
    """The seed's condition input.get("amount", 0) > 1000 filters events by their data."""
    seen: asyncio.Queue[Any] = asyncio.Queue()

    def condition_name(input: Any, ctx: FlowContext) -> bool:
        return bool(input.get("amount", 0) > 1000)

    async def handler(data: Any, ctx: FlowContext) -> None:
        await seen.put((data, ctx.trigger.type, ctx.trigger.index, ctx.trigger.topic))

    step_wrapper(
        StepConfig(
            name="BigPayment",
            triggers=[EventTrigger(topic="cond.payment", condition=condition_name)],
        ),
        __file__,
        handler,
    )
    await bridge.connect()
    await bridge.invoke_function("emit", {"topic": "cond.payment", "data": {"amount": 50}})
    await bridge.invoke_function("emit", {"topic": "cond.payment", "data": {"amount": 5000}})
    data, kind, index, topic = await asyncio.wait_for(seen.get(), 5)
    assert data == {"amount": 5000}
    assert (kind, index, topic) == ("event", 0, "cond.payment")
    await asyncio.sleep(0.2)
    assert seen.empty()


async def test_condition_list_runs_in_order_and_first_false_stops(bridge: Bridge) -> None:
    """condition=[c1, c2]: bound as :condition and :condition:1; a false c1 means c2 never runs."""
    handled: asyncio.Queue[Any] = asyncio.Queue()
    first_saw: list[int] = []
    second_saw: list[int] = []

    def over_ten(input: Any, ctx: FlowContext) -> bool:
        first_saw.append(input["amount"])
        return bool(input["amount"] > 10)

    async def second(input: Any, ctx: FlowContext) -> bool:
        second_saw.append(input["amount"])
        return True

    async def handler(data: Any, ctx: FlowContext) -> None:
        await handled.put(data["amount"])

    step_wrapper(
        StepConfig(
            name="TwoConditions",
            triggers=[EventTrigger(topic="cond.two", condition=[over_ten, second])],
        ),
        __file__,
        handler,
    )
    await bridge.connect()
    await bridge.invoke_function("emit", {"topic": "cond.two", "data": {"amount": 5}})
    for _ in range(100):
        if first_saw:
            break
        await asyncio.sleep(0.05)
    await bridge.invoke_function("emit", {"topic": "cond.two", "data": {"amount": 50}})
    assert await asyncio.wait_for(handled.get(), 5) == 50
    assert first_saw == [5, 50]
    assert second_saw == [50], "the second condition never saw the call the first one stopped"
    await asyncio.sleep(0.2)
    assert handled.empty()


async def test_async_condition_and_second_trigger_index(bridge: Bridge) -> None:
    """An async condition works, and ctx.trigger.index tells which trigger fired."""
    seen: asyncio.Queue[Any] = asyncio.Queue()

    async def is_verified(input: Any, ctx: FlowContext) -> bool:
        await asyncio.sleep(0)
        return bool(input.get("verified"))

    async def handler(data: Any, ctx: FlowContext) -> None:
        await seen.put((ctx.trigger.index, data["id"]))

    step_wrapper(
        StepConfig(
            name="Verified",
            triggers=[
                EventTrigger(topic="cond.first"),
                EventTrigger(topic="cond.second", condition=is_verified),
            ],
        ),
        __file__,
        handler,
    )
    await bridge.connect()
    await bridge.invoke_function("emit", {"topic": "cond.second", "data": {"id": 1}})
    await bridge.invoke_function(
        "emit", {"topic": "cond.second", "data": {"id": 2, "verified": True}}
    )
    await bridge.invoke_function("emit", {"topic": "cond.first", "data": {"id": 3}})
    got = {await asyncio.wait_for(seen.get(), 5), await asyncio.wait_for(seen.get(), 5)}
    assert got == {(1, 2), (0, 3)}


async def test_api_step_middleware_order_and_context(engine: EngineProcess, bridge: Bridge) -> None:
    """Middleware runs first-listed outermost, can stop a request, and can set ctx attributes."""
    order: list[str] = []

    async def outer(req: ApiRequest, ctx: FlowContext, next_handler: Any) -> ApiResponse:
        order.append("outer-in")
        if not req.headers.get("Authorization"):
            return ApiResponse(status=401, body={"error": "Unauthorized"})
        ctx.user = {"name": "Alice"}
        response: ApiResponse = await next_handler(req, ctx)
        response.headers["X-Request-ID"] = ctx.trace_id
        order.append("outer-out")
        return response

    async def inner(req: ApiRequest, ctx: FlowContext, next_handler: Any) -> ApiResponse:
        order.append("inner")
        return await next_handler(req, ctx)  # type: ignore[no-any-return]

    async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
        order.append("handler")
        return ApiResponse(
            status=200,
            body={
                "hello": ctx.user["name"],
                "id": req.path_params.get("id"),
                "q": req.query_params.get("q"),
                "trigger": [ctx.trigger.type, ctx.trigger.method, ctx.trigger.path],
            },
        )

    step_wrapper(
        StepConfig(
            name="Greet",
            triggers=[ApiTrigger(path="/greet/:id", method="GET", middleware=[outer, inner])],
        ),
        __file__,
        handler,
    )
    await bridge.connect()
    denied = await _http("GET", f"{engine.api_url}/greet/7")
    assert denied.status == 401 and denied.body == {"error": "Unauthorized"}
    ok = await _http("GET", f"{engine.api_url}/greet/7?q=x", headers={"Authorization": "t"})
    assert ok.status == 200, ok.body
    assert ok.body == {
        "hello": "Alice",
        "id": "7",
        "q": "x",
        "trigger": ["api", "GET", "/greet/:id"],
    }
    assert len(ok.headers["x-request-id"]) == 32
    assert order == ["outer-in", "outer-in", "inner", "handler", "outer-out"]


async def test_api_condition_gets_request(engine: EngineProcess, bridge: Bridge) -> None:
    """An API condition receives the ApiRequest; false answers 422."""

    def big_orders_only(req: ApiRequest, ctx: FlowContext) -> bool:
        return bool(req.body.get("amount", 0) > 1000)

    step_wrapper(
        StepConfig(
            name="Order",
            triggers=[ApiTrigger(path="/orders", method="POST", condition=big_orders_only)],
        ),
        __file__,
        lambda req, ctx: ApiResponse(status=201, body=req.body),
    )
    await bridge.connect()
    small = await _http("POST", f"{engine.api_url}/orders", {"amount": 5})
    assert small.status == 422
    big = await _http("POST", f"{engine.api_url}/orders", {"amount": 5000})
    assert (big.status, big.body) == (201, {"amount": 5000})


async def test_emit_from_api_step_keeps_trace_id(engine: EngineProcess, bridge: Bridge) -> None:
    """An event emitted by an API step reaches event steps in the same trace."""
    seen: asyncio.Queue[Any] = asyncio.Queue()

    async def api_handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
        await ctx.emit("trace.created", {"id": "123"})
        return ApiResponse(status=202, body={"trace_id": ctx.trace_id})

    async def on_created(data: Any, ctx: FlowContext) -> None:
        await seen.put((data, ctx.trace_id))

    step_wrapper(
        StepConfig(name="TraceApi", triggers=[ApiTrigger(path="/trace", method="POST")]),
        __file__,
        api_handler,
    )
    step_wrapper(
        StepConfig(name="TraceEvent", triggers=[EventTrigger(topic="trace.created")]),
        __file__,
        on_created,
    )
    await bridge.connect()
    res = await _http("POST", f"{engine.api_url}/trace", {})
    assert res.status == 202
    data, trace_id = await asyncio.wait_for(seen.get(), 5)
    assert data == {"id": "123"}
    assert trace_id == res.body["trace_id"]


async def test_handler_error_is_500_and_step_keeps_serving(
    engine: EngineProcess, bridge: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    """A raising API handler answers 500 {error, message, error_id} like Node Motia.

    The traceback is logged (and forwarded to the engine) with the error id, the trace id and
    the step's name, never sent to the client; the worker keeps serving.
    """
    calls = {"n": 0}
    traces: list[str] = []

    def flaky(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
        calls["n"] += 1
        if calls["n"] == 1:
            traces.append(ctx.trace_id)
            raise RuntimeError("first call fails: do not show the client")
        return ApiResponse(status=200, body={"n": calls["n"]})

    step_wrapper(
        StepConfig(name="Flaky", triggers=[ApiTrigger(path="/flaky", method="GET")]),
        __file__,
        flaky,
    )
    await bridge.connect()
    first = await _http("GET", f"{engine.api_url}/flaky")
    assert first.status == 500
    error_id = first.body["error_id"]
    assert first.body == {
        "error": "internal_error",
        "message": "the request could not be handled",
        "error_id": error_id,
    }
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", error_id)
    second = await _http("GET", f"{engine.api_url}/flaky")
    assert (second.status, second.body) == (200, {"n": 2})

    [record] = [r for r in caplog.records if error_id in r.getMessage()]
    text = record.getMessage()
    assert record.levelno == logging.ERROR
    assert record.trace_id == traces[0]  # type: ignore[attr-defined]
    assert record.function_path == "steps.Flaky:trigger:0"  # type: ignore[attr-defined]
    assert f"step Flaky failed (error_id {error_id})" in text
    assert "Traceback" in text and "RuntimeError: first call fails" in text
    # forwarded to the engine's logger.log with the trace id
    for _ in range(100):
        lines = [json.loads(x) for x in list(engine.output) if x.startswith("{") and error_id in x]
        if lines:
            break
        await asyncio.sleep(0.05)
    assert lines and lines[0]["trace_id"] == traces[0]
    assert lines[0]["function_path"] == "steps.Flaky:trigger:0"
    assert lines[0]["level"] == "error" and lines[0]["data"] == {"error_id": error_id}


async def test_cron_step_gets_payload_and_trigger(bridge: Bridge) -> None:
    """A cron step (6 fields, every second) gets the cron payload and cron trigger metadata."""
    seen: asyncio.Queue[Any] = asyncio.Queue()

    async def tick(data: Any, ctx: FlowContext) -> None:
        await seen.put((data, ctx.trigger))

    step_wrapper(
        StepConfig(name="Ticker", triggers=[CronTrigger(expression="* * * * * *")]),
        __file__,
        tick,
    )
    await bridge.connect()
    data, trigger = await asyncio.wait_for(seen.get(), 5)
    assert {"scheduled_time", "actual_time"} <= set(data)
    assert (trigger.type, trigger.index, trigger.expression) == ("cron", 0, "* * * * * *")
