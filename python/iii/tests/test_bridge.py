"""Bridge against a real engine: registration, calls, errors, traces."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from iii import (
    Bridge,
    FunctionNotFoundError,
    InvocationFailedError,
    InvocationTimeoutError,
    current_invocation,
    current_trace_id,
)
from iii.testing import EngineProcess


async def _functions(bridge: Bridge) -> set[str]:
    listed = await bridge.invoke_function("engine.functions.list", {})
    return {f["function_path"] for f in listed["functions"]}


async def test_call_between_two_workers(engine: EngineProcess) -> None:
    """A function registered by one worker is callable from another."""
    async with Bridge(engine.bridge_url) as server, Bridge(engine.bridge_url) as client:

        async def add(data: dict[str, int]) -> int:
            return data["a"] + data["b"]

        server.register_function(function_path="t1.add", handler=add, description="adds")
        await server.flush()
        assert await client.invoke_function("t1.add", {"a": 2, "b": 3}) == 5


async def test_registrations_before_connect_are_sent_on_connect(engine: EngineProcess) -> None:
    """Functions registered before connect() are known to the engine once it returns."""
    bridge = Bridge(engine.bridge_url)
    bridge.register_function("t2.before", lambda data: "ok")
    await bridge.connect()
    try:
        assert "t2.before" in await _functions(bridge)
        assert await bridge.invoke_function("t2.before", None) == "ok"
    finally:
        await bridge.disconnect()


async def test_positional_and_decorator_forms(engine: EngineProcess) -> None:
    """register_function works positionally and as a decorator; the function stays callable."""
    async with Bridge(engine.bridge_url) as bridge:

        @bridge.register_function("t3.double")
        async def double(data: int) -> int:
            return data * 2

        bridge.register_function("t3.triple", lambda data: data * 3)
        await bridge.flush()
        assert await double(4) == 8
        assert await bridge.invoke_function("t3.double", 21) == 42
        assert await bridge.invoke_function("t3.triple", 5) == 15


async def test_sync_handler_runs_off_the_event_loop(engine: EngineProcess) -> None:
    """A sync handler runs in a worker thread and sees the call's context."""
    seen: dict[str, Any] = {}

    def handler(data: Any) -> str:
        seen["thread"] = threading.get_ident()
        inv = current_invocation()
        seen["path"] = inv.function_path if inv else None
        seen["trace"] = current_trace_id()
        return "sync"

    async with Bridge(engine.bridge_url) as bridge:
        bridge.register_function("t4.sync", handler)
        await bridge.flush()
        assert await bridge.invoke_function("t4.sync", {}) == "sync"
    assert seen["thread"] != threading.get_ident()
    assert seen["path"] == "t4.sync"
    assert seen["trace"] and len(seen["trace"]) == 32


async def test_handler_error_becomes_invocation_failed_and_worker_keeps_running(
    engine: EngineProcess,
) -> None:
    """A raising handler gives invocation_failed with its message; later calls still work."""
    async with Bridge(engine.bridge_url) as bridge:

        async def boom(data: Any) -> None:
            raise ValueError("card declined")

        bridge.register_function("t5.boom", boom)
        bridge.register_function("t5.ok", lambda data: True)
        await bridge.flush()
        with pytest.raises(InvocationFailedError) as info:
            await bridge.invoke_function("t5.boom", {})
        assert info.value.code == "invocation_failed"
        assert "card declined" in info.value.message
        assert await bridge.invoke_function("t5.ok", {}) is True


async def test_unknown_function_raises_function_not_found(engine: EngineProcess) -> None:
    """Calling a path nobody registered raises FunctionNotFoundError."""
    async with Bridge(engine.bridge_url) as bridge:
        with pytest.raises(FunctionNotFoundError) as info:
            await bridge.invoke_function("t6.nobody", {})
        assert info.value.code == "function_not_found"


async def test_timeout_raises_invocation_timeout(engine: EngineProcess) -> None:
    """A handler slower than the call's timeout gives InvocationTimeoutError."""
    async with Bridge(engine.bridge_url) as bridge:

        async def slow(data: Any) -> str:
            await asyncio.sleep(5)
            return "late"

        bridge.register_function("t7.slow", slow)
        await bridge.flush()
        with pytest.raises(InvocationTimeoutError):
            await bridge.invoke_function("t7.slow", {}, timeout=0.3)


async def test_trace_id_is_carried_through_nested_calls(engine: EngineProcess) -> None:
    """A call made inside a handler continues the caller's trace."""
    async with Bridge(engine.bridge_url) as a, Bridge(engine.bridge_url) as b:

        async def inner(data: Any) -> str | None:
            return current_trace_id()

        async def outer(data: Any) -> dict[str, Any]:
            return {"outer": current_trace_id(), "inner": await a.invoke_function("t8.inner")}

        b.register_function("t8.inner", inner)
        a.register_function("t8.outer", outer)
        await a.flush()
        await b.flush()
        result = await b.invoke_function("t8.outer", {})
        assert result["outer"] and result["outer"] == result["inner"]


async def test_registration_after_connect_is_sent_at_once(engine: EngineProcess) -> None:
    """A function registered on a connected bridge is listed by the engine right away."""
    async with Bridge(engine.bridge_url) as bridge:
        ref = bridge.register_function("t9.late", lambda data: 1)
        await bridge.flush()
        assert "t9.late" in await _functions(bridge)
        ref.unregister()
        await bridge.flush()
        assert "t9.late" not in await _functions(bridge)


async def test_worker_describes_itself(engine: EngineProcess) -> None:
    """On connect the SDK registers runtime=python and its name with the engine."""
    async with Bridge(engine.bridge_url, name="py-describer") as bridge:
        for _ in range(50):
            workers = (await bridge.invoke_function("engine.workers.list", {}))["workers"]
            mine = [w for w in workers if w.get("name") == "py-describer"]
            if mine:
                break
            await asyncio.sleep(0.05)
        assert mine and mine[0]["runtime"] == "python"
        assert bridge.worker_id == mine[0]["id"]


async def test_event_trigger_delivers_emitted_data(engine: EngineProcess) -> None:
    """An event trigger on a topic receives the data given to emit."""
    got: asyncio.Queue[Any] = asyncio.Queue()
    async with Bridge(engine.bridge_url) as bridge:

        async def on_event(data: Any) -> None:
            await got.put(data)

        bridge.register_function("t10.on", on_event)
        bridge.register_trigger("event", "t10.on", {"topic": "t10.topic"})
        await bridge.flush()
        await bridge.invoke_function("emit", {"topic": "t10.topic", "data": {"n": 1}})
        assert await asyncio.wait_for(got.get(), 5) == {"n": 1}


async def test_fire_and_forget_call_runs_handler(engine: EngineProcess) -> None:
    """invoke_function_async runs the handler and returns nothing."""
    got: asyncio.Queue[Any] = asyncio.Queue()
    async with Bridge(engine.bridge_url) as a, Bridge(engine.bridge_url) as b:

        async def sink(data: Any) -> None:
            await got.put(data)

        a.register_function("t11.sink", sink)
        await a.flush()
        assert b.invoke_function_async("t11.sink", [1, 2]) is None
        assert await asyncio.wait_for(got.get(), 5) == [1, 2]


async def test_sync_handler_can_fire_calls_from_its_thread(engine: EngineProcess) -> None:
    """A sync handler (in a worker thread) may use invoke_function_async safely."""
    got: asyncio.Queue[Any] = asyncio.Queue()
    async with Bridge(engine.bridge_url) as bridge:

        async def sink(data: Any) -> None:
            await got.put(data)

        def relay(data: Any) -> str:
            bridge.invoke_function_async("t12.sink", {"relayed": data})
            return "sent"

        bridge.register_function("t12.sink", sink)
        bridge.register_function("t12.relay", relay)
        await bridge.flush()
        assert await bridge.invoke_function("t12.relay", 9) == "sent"
        assert await asyncio.wait_for(got.get(), 5) == {"relayed": 9}
