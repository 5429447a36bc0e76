"""Durable events from Python through a real engine: coded handler errors and the built-ins."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from iii import Bridge, Events, NonRetryableError, RetryAfterError, current_invocation
from iii.testing import EngineProcess


async def _wait_for(check: Any, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < end, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_non_retryable_error_dead_letters_at_once(engine: EngineProcess) -> None:
    """A handler raising NonRetryableError is tried once and lands in the dead letters."""
    calls: list[Any] = []

    def handler(data: Any) -> None:
        calls.append(data)
        raise NonRetryableError("card declined")

    async with Bridge(engine.bridge_url) as bridge:
        events = Events(bridge)
        bridge.register_function("py.nr.handler", handler)
        bridge.register_trigger("event", "py.nr.handler", {"topic": "py.nr", "max_attempts": 5})
        await bridge.flush()
        await asyncio.sleep(0.1)
        sent = await events.emit("py.nr", {"order": 1})
        assert sent["duplicate"] is False

        async def dead() -> bool:
            return len((await events.list_dead_letters(topic="py.nr"))["items"]) == 1

        await _wait_for(dead)
        await asyncio.sleep(0.2)
        assert calls == [{"order": 1}]
        [letter] = (await events.list_dead_letters(topic="py.nr"))["items"]
        assert letter["event_id"] == sent["event_id"]
        assert letter["error"] == {"code": "non_retryable", "message": "card declined"}
        assert letter["attempts"] == 1
        assert letter["data"] == {"order": 1}
        stats = [s for s in await events.stats() if s["topic"] == "py.nr"]
        assert stats == [
            {
                "topic": "py.nr",
                "function_path": "py.nr.handler",
                "pending": 0,
                "in_flight": 0,
                "delayed": 0,
                "dead": 1,
            }
        ]
        assert await events.discard(topic="py.nr") == 1
        assert (await events.list_dead_letters(topic="py.nr"))["items"] == []


async def test_retry_after_error_sets_the_wait_and_redrive_restarts(engine: EngineProcess) -> None:
    """RetryAfterError replaces the backoff; a redriven letter runs again from attempt 1."""
    seen: list[tuple[int, float]] = []

    def handler(data: Any) -> str:
        inv = current_invocation()
        attempt = int(inv.trigger.model_extra["attempt"]) if inv and inv.trigger else 0
        seen.append((attempt, time.monotonic()))
        raise RetryAfterError("busy", 400)

    async with Bridge(engine.bridge_url) as bridge:
        events = Events(bridge)
        bridge.register_function("py.ra.handler", handler)
        backoff = {"initial_ms": 10, "jitter": False}
        config = {"topic": "py.ra", "max_attempts": 2, "backoff": backoff}
        bridge.register_trigger("event", "py.ra.handler", config)
        await bridge.flush()
        await asyncio.sleep(0.1)
        first = await events.emit("py.ra", 1, idempotency_key="ra-1")
        again = await events.emit("py.ra", 2, idempotency_key="ra-1")
        assert again == {"event_id": first["event_id"], "duplicate": True}

        async def dead() -> bool:
            return len((await events.list_dead_letters(topic="py.ra"))["items"]) == 1

        await _wait_for(dead)
        assert [a for a, _ in seen] == [1, 2]
        assert seen[1][1] - seen[0][1] >= 0.39
        [letter] = (await events.list_dead_letters(topic="py.ra"))["items"]
        assert letter["error"]["code"] == "invocation_failed"
        assert await events.redrive(id=letter["id"]) == 1
        await _wait_for(lambda: _async(len(seen) >= 3))
        assert seen[2][0] == 1


async def _async(value: bool) -> bool:
    return value
