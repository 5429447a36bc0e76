"""Reconnection: the bridge comes back after an engine restart and replays registrations."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from iii import Bridge, ConnectionFailedError
from iii.testing import EngineProcess, find_engine_cli, free_port
from iii.transport import backoff_delay

ENGINE_CLI = find_engine_cli(__file__)


async def _wait_connected(bridge: Bridge, connections: int) -> None:
    for _ in range(200):
        if bridge.connected and bridge._transport.connections >= connections:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("bridge did not reconnect")


async def test_registrations_replayed_after_engine_restart() -> None:
    """After the engine restarts, functions, triggers and conditions work again."""
    port = free_port()
    url = f"ws://127.0.0.1:{port}"
    got: asyncio.Queue[Any] = asyncio.Queue()

    async def on_event(data: Any) -> None:
        await got.put(data)

    worker = Bridge(url, reconnect_initial_delay=0.05, reconnect_max_delay=0.3)
    worker.register_function("r.echo", lambda data: data)
    worker.register_function("r.on", on_event)
    worker.register_trigger("event", "r.on", {"topic": "r.topic"})
    with EngineProcess.start(ENGINE_CLI, port=port) as first:
        await worker.connect()
        async with Bridge(url) as client:
            assert await client.invoke_function("r.echo", "first") == "first"
        # Stop off the event loop: the engine closes our socket gracefully and we must answer.
        await asyncio.to_thread(first.stop)
    try:
        with EngineProcess.start(ENGINE_CLI, port=port) as second:
            await _wait_connected(worker, 2)
            await worker.flush()
            async with Bridge(url) as client:
                assert await client.invoke_function("r.echo", "second") == "second"
                await client.invoke_function("emit", {"topic": "r.topic", "data": 7})
                assert await asyncio.wait_for(got.get(), 5) == 7
            await asyncio.to_thread(second.stop)
    finally:
        await worker.disconnect()


async def test_connect_fails_with_coded_error_when_no_engine() -> None:
    """connect() to a closed port raises ConnectionFailedError after connect_timeout."""
    bridge = Bridge(f"ws://127.0.0.1:{free_port()}", connect_timeout=0.3)
    with pytest.raises(ConnectionFailedError) as info:
        await bridge.connect()
    assert info.value.code == "connection_failed"
    await bridge.disconnect()


async def test_calls_made_while_disconnected_are_sent_on_connect(engine: EngineProcess) -> None:
    """invoke_function before connect() is queued and answered once connected."""
    bridge = Bridge(engine.bridge_url)
    bridge.register_function("r.queued", lambda data: data + 1)
    call = asyncio.create_task(bridge.invoke_function("r.queued", 1, timeout=5))
    await asyncio.sleep(0.05)
    assert not call.done()
    await bridge.connect()
    try:
        assert await call == 2
    finally:
        await bridge.disconnect()


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    """Backoff delays grow, stay within [ceiling/2, ceiling], and never pass the maximum."""
    for attempt in range(12):
        ceiling = min(2.0, 0.1 * 2**attempt)
        delays = {backoff_delay(attempt, initial=0.1, maximum=2.0) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1


async def test_concurrent_connects_share_one_connection(engine: EngineProcess) -> None:
    """Two connect() calls at once both return connected, over one socket."""
    bridge = Bridge(engine.bridge_url)
    try:
        await asyncio.gather(bridge.connect(), bridge.connect())
        assert bridge.connected
        assert bridge._transport.connections == 1
    finally:
        await bridge.disconnect()


async def test_server_that_closes_at_once_gets_no_reconnect_storm() -> None:
    """A server that closes every connection right after the handshake sees backed-off
    reconnects (a handful per second), not a hot loop."""
    accepted: list[float] = []

    async def close_at_once(ws: ServerConnection) -> None:
        accepted.append(asyncio.get_running_loop().time())
        await ws.close()

    async with serve(close_at_once, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        bridge = Bridge(f"ws://127.0.0.1:{port}", reconnect_initial_delay=0.1)
        try:
            await bridge.connect()
            await asyncio.sleep(1.5)
        finally:
            await bridge.disconnect()
    # delays of at least 50, 100, 200, 400 ms ... : at most 6 connections in 1.5 s
    assert 2 <= len(accepted) <= 7, len(accepted)
