"""Body and query schemas: 400 before the handler runs, parsed values, OpenAPI registration."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from pydantic import BaseModel, Field, ValidationError

from iii import Bridge
from iii.testing import EngineProcess, http_json
from motia import ApiRequest, ApiResponse, ApiTrigger, FlowContext, StepConfig, step_wrapper


class NewTodo(BaseModel):
    title: str = Field(min_length=1)
    priority: int = 1


class Todo(BaseModel):
    id: str
    title: str


class Page(BaseModel):
    limit: int = Field(default=10, le=100)


class Problem(BaseModel):
    error: str


def _config(name: str, path: str) -> StepConfig[Any]:
    return StepConfig(
        name=name,
        description="Creates a todo",
        triggers=[
            ApiTrigger(
                path=path,
                method="POST",
                body_schema=NewTodo,
                query_schema=Page,
                response_schema={201: Todo, 400: Problem},
            )
        ],
    )


async def _http(method: str, url: str, body: Any = None) -> Any:
    return await asyncio.to_thread(http_json, method, url, body)


async def test_bad_body_or_query_answers_400_before_the_handler(
    engine: EngineProcess, bridge: Bridge
) -> None:
    """A body or query that does not match answers Node Motia's 400; the handler never runs."""
    calls: list[Any] = []

    async def handler(req: ApiRequest[NewTodo], ctx: FlowContext[Any]) -> ApiResponse[Todo]:
        calls.append((req.body, req.query_params))
        assert isinstance(req.body, NewTodo) and isinstance(req.query_params, Page)
        assert ctx.get_data() is req.body and ctx.input is not None and ctx.input.request is req
        return ApiResponse(201, Todo(id="t1", title=req.body.title))

    step_wrapper(_config("SchemaTodo", "/schema/todos"), __file__, handler)
    await bridge.connect()
    url = f"{engine.api_url}/schema/todos"
    missing = await _http("POST", url, {"priority": "high"})
    assert missing.status == 400
    assert missing.body["error"] == "validation_failed" and missing.body["in"] == "body"
    issues = {tuple(i["path"]): i for i in missing.body["issues"]}
    assert issues[("title",)]["code"] == "invalid_type"
    assert issues[("priority",)]["code"] == "invalid_type"
    assert all(isinstance(i["message"], str) and i["message"] for i in issues.values())
    short = await _http("POST", url, {"title": ""})
    assert [(i["path"], i["code"]) for i in short.body["issues"]] == [(["title"], "too_small")]
    no_body = await _http("POST", url)
    assert no_body.status == 400 and no_body.body["issues"][0]["path"] == []
    query = await _http("POST", f"{url}?limit=1000", {"title": "a"})
    assert query.status == 400 and query.body["in"] == "query_params"
    assert [(i["path"], i["code"]) for i in query.body["issues"]] == [(["limit"], "too_big")]
    assert calls == []
    ok = await _http("POST", f"{url}?limit=5", {"title": "Buy milk", "priority": "2"})
    assert (ok.status, ok.body) == (201, {"id": "t1", "title": "Buy milk"})
    assert calls == [(NewTodo(title="Buy milk", priority=2), Page(limit=5))]


async def test_schema_metadata_is_on_the_engine(bridge: Bridge) -> None:
    """metadata.motia carries step, app, instance, query_schema and description."""
    step_wrapper(_config("SchemaMeta", "/schema/meta"), __file__, lambda req, ctx: None)
    await bridge.connect()
    listed = await bridge.invoke_function("engine.functions.list", {})
    fn = next(f for f in listed["functions"] if f["function_path"] == "steps.SchemaMeta:trigger:0")
    motia = fn["metadata"]["motia"]
    assert motia["step"] == "SchemaMeta" and motia["description"] == "Creates a todo"
    assert motia["query_schema"] == Page.model_json_schema()
    assert motia["trigger_types"] == ["api"] and motia["runtime"] == "python"
    assert isinstance(motia["app"], str) and isinstance(motia["instance"], str)
    assert "replica" not in motia


async def test_request_and_response_formats_on_the_wire() -> None:
    """registerfunction carries request_format (body schema) and response_format by status."""
    frames: list[dict[str, Any]] = []

    async def peer(ws: Any) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            frames.append(frame)
            if frame.get("type") == "ping":
                await ws.send(json.dumps({"type": "pong"}))

    async with websockets.serve(peer, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        bridge = Bridge(f"ws://127.0.0.1:{port}")
        step_wrapper(
            _config("SchemaWire", "/schema/wire"), __file__, lambda r, c: None, bridge=bridge
        )
        step_wrapper(
            StepConfig(name="SchemaPlain", triggers=[ApiTrigger(path="/plain")]),
            __file__,
            lambda r, c: None,
            bridge=bridge,
        )
        await bridge.connect()
        await bridge.disconnect()
    registered = {f["function_path"]: f for f in frames if f["type"] == "registerfunction"}
    wire = registered["steps.SchemaWire:trigger:0"]
    assert wire["request_format"] == NewTodo.model_json_schema()
    assert wire["response_format"] == {
        "201": Todo.model_json_schema(),
        "400": Problem.model_json_schema(),
    }
    plain = registered["steps.SchemaPlain:trigger:0"]
    assert plain.get("request_format") is None and plain.get("response_format") is None


def test_schemas_are_checked_when_the_step_is_declared() -> None:
    """A schema Pydantic cannot use, or a bad status, fails at the config with its field."""
    with pytest.raises(ValidationError, match="body_schema"):
        ApiTrigger(path="/x", body_schema={"type": "object"})
    with pytest.raises(ValidationError, match="query_schema"):
        ApiTrigger(path="/x", query_schema=object())
    with pytest.raises(ValidationError, match="100-599"):
        ApiTrigger(path="/x", response_schema={42: Todo})
    assert ApiTrigger(path="/x", bodySchema=list[Todo]).body is not None


async def test_emit_outside_declared_emits_warns(
    engine: EngineProcess, bridge: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    """A topic missing from config.emits is still emitted, with a warning naming it."""
    got: asyncio.Queue[Any] = asyncio.Queue()

    async def collect(data: Any) -> None:
        await got.put(data)

    bridge.register_function("test.collect.undeclared", collect)
    bridge.register_trigger("event", "test.collect.undeclared", {"topic": "undeclared.topic"})

    async def handler(req: ApiRequest[Any], ctx: FlowContext[Any]) -> ApiResponse[Any]:
        await ctx.emit("undeclared.topic", {"n": 1})
        return ApiResponse(200, {})

    config = StepConfig(
        name="SchemaEmits", triggers=[ApiTrigger(path="/schema/emits")], emits=["declared"]
    )
    step_wrapper(config, __file__, handler)
    await bridge.connect()
    with caplog.at_level("WARNING", logger="motia"):
        assert (await _http("GET", f"{engine.api_url}/schema/emits")).status == 200
    assert await asyncio.wait_for(got.get(), 5) == {"n": 1}
    assert 'step SchemaEmits emits "undeclared.topic", which is not in its emits' in caplog.text
