"""The error vocabulary shared with the Node SDK: the catalogue of protocol/errors.json (read here
at test time) against iii.errors, and every situation in which the SDK raises one of its codes,
over real sockets (an engine process, or the ``wire`` WebSocket server).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import iii
from iii import (
    Bridge,
    BridgeClosedError,
    ConnectionFailedError,
    IIIError,
    InvocationStoppedError,
    QueueFullError,
    error_from_wire,
)
from iii.errors import ERROR_CLASSES, ErrorCode
from iii.testing import EngineProcess, free_port

REPO = Path(__file__).resolve().parents[3]
ENGINE_CLI = REPO / "packages" / "engine" / "bin" / "iii.js"
CATALOGUE: dict[str, dict[str, Any]] = {
    e["code"]: e for e in json.loads((REPO / "protocol" / "errors.json").read_text())["errors"]
}


def sdk_code(code: str) -> str:
    """``code`` after checking the catalogue lists it as one an SDK raises."""
    assert "sdk" in CATALOGUE[code]["raised_by"], f"{code} is not an SDK code in errors.json"
    return code


def test_catalogue_has_exactly_the_codes_of_errors_json() -> None:
    """ErrorCode and the error classes cover the catalogue, no more, no less; each class is
    exported by iii and error_from_wire picks it; other codes stay plain IIIErrors."""
    assert {c.value for c in ErrorCode} == set(CATALOGUE)
    assert set(ERROR_CLASSES) == set(CATALOGUE)
    for code, cls in ERROR_CLASSES.items():
        assert getattr(iii, cls.__name__) is cls
        err = error_from_wire({"code": code, "message": "m"})
        assert type(err) is cls and err.code == code and err.message == "m"
    custom = error_from_wire({"code": "payment_declined", "message": "no"})
    assert type(custom) is IIIError and custom.to_wire() == {
        "code": "payment_declined",
        "message": "no",
    }


def test_connection_closed_error_is_a_deprecated_alias() -> None:
    """The old name still imports (with a warning) and catches both codes that replaced it."""
    with pytest.warns(DeprecationWarning, match="BridgeClosedError"):
        alias = iii.ConnectionClosedError
    assert alias == (BridgeClosedError, InvocationStoppedError)
    for exc in (BridgeClosedError("x"), InvocationStoppedError("y")):
        try:
            raise exc
        except alias:
            pass


async def test_disconnect_fails_waiting_and_later_calls_with_bridge_closed(wire: Any) -> None:
    """A call waiting when disconnect() is called, and calls made after it, get bridge_closed;
    connect() again works."""
    bridge = Bridge(wire.url)
    await bridge.connect()
    waiting = asyncio.create_task(bridge.invoke_function("c.never", {}, timeout=10))
    await wire.wait_for(lambda f: f.get("function_path") == "c.never")
    await bridge.disconnect()
    with pytest.raises(BridgeClosedError) as info:
        await waiting
    assert info.value.code == sdk_code("bridge_closed")
    with pytest.raises(BridgeClosedError):
        await bridge.invoke_function("c.after", {})
    with pytest.raises(BridgeClosedError):
        bridge.invoke_function_async("c.after", {})
    await bridge.connect()
    try:
        assert bridge.connected
    finally:
        await bridge.disconnect()


async def test_connection_drop_fails_waiting_call_with_invocation_stopped(wire: Any) -> None:
    """When the socket drops while a call waits, the call fails with invocation_stopped."""

    async def drop(ws: Any, frame: dict[str, Any]) -> None:
        if frame.get("function_path") == "c.dropped":
            await ws.close()

    wire.on_frame = drop
    async with Bridge(wire.url, reconnect_initial_delay=0.05) as bridge:
        with pytest.raises(InvocationStoppedError) as info:
            await bridge.invoke_function("c.dropped", {}, timeout=10)
    assert info.value.code == sdk_code("invocation_stopped")


async def test_engine_killed_while_a_call_waits_gives_invocation_stopped() -> None:
    """kill -9 of the engine under a waiting call: the caller gets invocation_stopped at once,
    not a timeout."""
    with EngineProcess.start(ENGINE_CLI) as proc:
        worker = Bridge(proc.bridge_url, reconnect=False)
        caller = Bridge(proc.bridge_url, reconnect=False)
        started = asyncio.Event()

        async def slow(data: Any) -> str:
            started.set()
            await asyncio.sleep(30)
            return "late"

        worker.register_function("c.slow", slow)
        await worker.connect()
        await caller.connect()
        try:
            call = asyncio.create_task(caller.invoke_function("c.slow", {}, timeout=20))
            await asyncio.wait_for(started.wait(), 5)
            proc.process.kill()
            loop = asyncio.get_running_loop()
            killed = loop.time()
            with pytest.raises(InvocationStoppedError) as info:
                await call
            assert loop.time() - killed < 2.0
            assert info.value.code == sdk_code("invocation_stopped")
        finally:
            await caller.disconnect()
            await worker.disconnect()


async def test_connect_timeout_gives_connection_failed() -> None:
    """connect() to a port nobody listens on fails with connection_failed after the timeout."""
    bridge = Bridge(f"ws://127.0.0.1:{free_port()}", connect_timeout=0.3)
    started = asyncio.get_running_loop().time()
    with pytest.raises(ConnectionFailedError) as info:
        await bridge.connect()
    elapsed = asyncio.get_running_loop().time() - started
    assert info.value.code == sdk_code("connection_failed")
    assert 0.25 <= elapsed < 3.0
    await bridge.disconnect()


async def test_full_queue_while_disconnected_gives_queue_full(wire: Any) -> None:
    """Past max_queued_messages, calls fail with queue_full; the queued ones still arrive."""
    bridge = Bridge(wire.url, max_queued_messages=3)
    for n in range(3):
        bridge.invoke_function_async("c.queued", n)
    with pytest.raises(QueueFullError) as info:
        bridge.invoke_function_async("c.queued", 3)
    assert info.value.code == sdk_code("queue_full")
    with pytest.raises(QueueFullError):
        await bridge.invoke_function("c.queued", 4)
    await bridge.connect()
    try:
        await wire.wait_for(lambda f: f.get("data") == 2)
        sent = [f["data"] for f in wire.connections[0] if f.get("function_path") == "c.queued"]
        assert sent == [0, 1, 2]
    finally:
        await bridge.disconnect()
