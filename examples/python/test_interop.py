"""Python and Node.js workers on one engine: calls both ways, events, one trace id."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from iii import Bridge, current_trace_id
from iii.testing import EngineProcess, http_json, run_process
from motia import ApiRequest, ApiResponse, ApiTrigger, FlowContext, StepConfig, step_wrapper

REPO = Path(__file__).resolve().parents[2]
NODE_WORKER = ["node", "--import", "tsx", "examples/python/interop/node_worker.ts"]


def _node(engine: EngineProcess) -> Any:
    return run_process(
        NODE_WORKER, ready="node ready", env={"III_BRIDGE_URL": engine.bridge_url}, cwd=REPO
    )


async def test_python_calls_node_which_calls_python(engine: EngineProcess) -> None:
    """Python -> Node -> Python: results come back, and all three share one trace id."""
    seen: dict[str, Any] = {}
    async with Bridge(engine.bridge_url) as bridge:

        async def upper(data: dict[str, str]) -> str:
            seen["trace_id"] = current_trace_id()
            return data["text"].upper()

        bridge.register_function("py.upper", upper)
        await bridge.flush()
        with _node(engine):

            async def caller(data: Any) -> Any:
                seen["caller"] = current_trace_id()
                return await bridge.invoke_function("node.greet", data)

            bridge.register_function("py.caller", caller)
            await bridge.flush()
            result = await bridge.invoke_function("py.caller", {"name": "alice"})
    assert result["greeting"] == "Hello, ALICE"
    assert seen["caller"] == result["trace_id"] == seen["trace_id"]


async def test_python_api_step_emits_event_handled_by_node(engine: EngineProcess) -> None:
    """A Python API step's event reaches a Node handler in the same trace."""
    records: asyncio.Queue[Any] = asyncio.Queue()
    bridge = Bridge(engine.bridge_url)

    async def record(data: Any) -> None:
        await records.put(data)

    async def create(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
        await ctx.emit("interop.created", {"name": req.body["name"]})
        return ApiResponse(status=201, body={"trace_id": ctx.trace_id})

    bridge.register_function("py.record", record)
    step_wrapper(
        StepConfig(name="InteropCreate", triggers=[ApiTrigger(path="/interop", method="POST")]),
        __file__,
        create,
        bridge=bridge,
    )
    await bridge.connect()
    try:
        with _node(engine):
            res = await asyncio.to_thread(
                http_json, "POST", f"{engine.api_url}/interop", {"name": "Bob"}
            )
            got = await asyncio.wait_for(records.get(), 10)
    finally:
        await bridge.disconnect()
    assert res.status == 201
    assert isinstance(res.body, dict)
    assert got == {"data": {"name": "Bob"}, "trace_id": res.body["trace_id"]}


async def test_python_step_event_handled_by_node_motia_step(engine: EngineProcess) -> None:
    """A Python Motia API step emits; a Node Motia step handles it in the same trace."""
    handled: asyncio.Queue[Any] = asyncio.Queue()
    bridge = Bridge(engine.bridge_url)

    async def collect(data: Any) -> None:
        await handled.put(data)

    async def create(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
        await ctx.emit("interop.created", {"name": req.body["name"]})
        return ApiResponse(status=201, body={"trace_id": ctx.trace_id})

    bridge.register_function("py.handled", collect)
    bridge.register_trigger("event", "py.handled", {"topic": "interop.handled"})
    step_wrapper(
        StepConfig(name="InteropCreate2", triggers=[ApiTrigger(path="/interop2", method="POST")]),
        __file__,
        create,
        bridge=bridge,
    )
    await bridge.connect()
    node_motia = [
        "node",
        "--import",
        "tsx",
        "packages/motia/src/cli.ts",
        "start",
        "examples/python/interop/node_app",
        "--url",
        engine.bridge_url,
    ]
    try:
        with run_process(node_motia, ready="ready: 1 step", cwd=REPO, timeout=30):
            res = await asyncio.to_thread(
                http_json, "POST", f"{engine.api_url}/interop2", {"name": "Carol"}
            )
            got = await asyncio.wait_for(handled.get(), 10)
    finally:
        await bridge.disconnect()
    assert res.status == 201
    assert isinstance(res.body, dict)
    assert got == {"data": {"name": "Carol"}, "trace_id": res.body["trace_id"]}
