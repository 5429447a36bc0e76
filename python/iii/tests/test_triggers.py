"""Conditions and worker-owned trigger types through a real engine."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from iii import Bridge, RegisterTrigger
from iii.testing import EngineProcess


async def test_condition_false_skips_handler(engine: EngineProcess) -> None:
    """A bound condition returning false stops event delivery; true lets it through."""
    got: asyncio.Queue[Any] = asyncio.Queue()
    async with Bridge(engine.bridge_url) as bridge:

        async def handler(data: Any) -> None:
            await got.put(data)

        bridge.register_function("c1.handler", handler)
        bridge.register_function("c1.big", lambda data: data.get("amount", 0) > 1000)
        bridge.register_condition("c1.handler", "c1.big")
        bridge.register_trigger("event", "c1.handler", {"topic": "c1.topic"})
        await bridge.flush()
        for amount in (10, 2000):
            await bridge.invoke_function("emit", {"topic": "c1.topic", "data": {"amount": amount}})
        assert await asyncio.wait_for(got.get(), 5) == {"amount": 2000}
        await asyncio.sleep(0.2)
        assert got.empty()


async def test_condition_unregister_lets_blocked_handler_run(engine: EngineProcess) -> None:
    """unregister() of a condition sends unregistercondition: the blocked handler now runs.

    The condition function stays registered and keeps answering false, so only the binding
    decides. A binding taken back before connecting is never sent (not replayed).
    """
    got: asyncio.Queue[Any] = asyncio.Queue()
    checked: list[int] = []

    async def handler(data: Any) -> None:
        await got.put(data["n"])

    def closed(data: Any) -> bool:
        checked.append(data["n"])
        return False

    async with Bridge(engine.bridge_url) as bridge:
        bridge.register_function("cu.handler", handler)
        bridge.register_function("cu.closed", closed)
        ref = bridge.register_condition("cu.handler", "cu.closed")
        assert (ref.function_path, ref.condition_function_path) == ("cu.handler", "cu.closed")
        bridge.register_trigger("event", "cu.handler", {"topic": "cu.topic"})
        await bridge.flush()
        await bridge.invoke_function("emit", {"topic": "cu.topic", "data": {"n": 1}})
        for _ in range(100):
            if checked:
                break
            await asyncio.sleep(0.05)
        assert checked == [1]
        ref.unregister()
        ref.unregister()  # twice is safe
        await bridge.invoke_function("emit", {"topic": "cu.topic", "data": {"n": 2}})
        assert await asyncio.wait_for(got.get(), 5) == 2
        assert checked == [1]
        assert got.empty()

    later = Bridge(engine.bridge_url)
    later.register_function("cu2.handler", handler)
    later.register_function("cu2.closed", closed)
    later.register_condition("cu2.handler", "cu2.closed").unregister()
    later.register_trigger("event", "cu2.handler", {"topic": "cu2.topic"})
    async with later:
        await later.invoke_function("emit", {"topic": "cu2.topic", "data": {"n": 3}})
        assert await asyncio.wait_for(got.get(), 5) == 3
    assert checked == [1]


async def test_worker_trigger_type_receives_and_fires_triggers(engine: EngineProcess) -> None:
    """The owner of a trigger type gets the triggers others register, and can fire them."""
    registered: asyncio.Queue[RegisterTrigger] = asyncio.Queue()
    fired: asyncio.Queue[Any] = asyncio.Queue()
    async with Bridge(engine.bridge_url) as owner, Bridge(engine.bridge_url) as user:
        owner.register_trigger_type("t-webhook", "webhooks", on_register=registered.put_nowait)
        await owner.flush()

        async def on_hook(data: Any) -> str:
            await fired.put(data)
            return "handled"

        user.register_function("tt.on_hook", on_hook)
        user.register_trigger("t-webhook", "tt.on_hook", {"secret": "s"}, id="hook-1")
        await user.flush()
        trig = await asyncio.wait_for(registered.get(), 5)
        assert (trig.id, trig.function_path, trig.config) == (
            "hook-1",
            "tt.on_hook",
            {"secret": "s"},
        )
        result = await owner.invoke_function(
            trig.function_path, {"event": "push"}, trigger={"type": "t-webhook", "id": trig.id}
        )
        assert result == "handled"
        assert await asyncio.wait_for(fired.get(), 5) == {"event": "push"}


async def test_refused_trigger_is_reported(
    engine: EngineProcess, caplog: pytest.LogCaptureFixture
) -> None:
    """An owner that raises in on_register refuses the trigger; the engine reports it."""

    def refuse(trigger: RegisterTrigger) -> None:
        raise ValueError("missing secret")

    caplog.set_level(logging.WARNING, logger="iii")
    async with Bridge(engine.bridge_url) as owner, Bridge(engine.bridge_url) as user:
        owner.register_trigger_type("t-strict", on_register=refuse)
        await owner.flush()
        user.register_function("tt.strict", lambda data: None)
        user.register_trigger("t-strict", "tt.strict", {})
        for _ in range(100):
            if "trigger_rejected" in caplog.text:
                break
            await asyncio.sleep(0.05)
    assert "trigger_rejected" in caplog.text
    assert "missing secret" in caplog.text
