"""Fixtures: a real engine process per test session (and fresh ones where a test needs it), and
``wire``, a real WebSocket server that plays the engine's side of a few frames.

``wire`` records every frame of every connection, answers ``ping`` with ``pong`` and hands
other frames to its ``on_frame`` (which may answer or close the socket). It is not the engine:
contract tests use it where they must see the exact frames an SDK writes (replay order, an
``invocationresult``, a forwarded log record) or make the socket misbehave on cue.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from iii.testing import EngineProcess

REPO = Path(__file__).resolve().parents[3]
ENGINE_CLI = REPO / "packages" / "engine" / "bin" / "iii.js"


@pytest.fixture(scope="session")
def engine() -> Iterator[EngineProcess]:
    """One engine shared by the tests of a session."""
    with EngineProcess.start(ENGINE_CLI) as proc:
        yield proc


Frame = dict[str, Any]
OnFrame = Callable[[ServerConnection, Frame], Awaitable[None]]


class WireServer:
    """Listens on 127.0.0.1 between :meth:`start` and :meth:`stop` (restartable, same port)."""

    def __init__(self, port: int = 0, on_frame: OnFrame | None = None) -> None:
        self.port = port
        self.on_frame = on_frame
        self.connections: list[list[Frame]] = []
        self.sockets: list[ServerConnection] = []
        self._server: Server | None = None
        self._changed = asyncio.Event()

    @property
    def url(self) -> str:
        """The ``ws://`` address workers connect to."""
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen (on the port of the last start, or a free one the first time)."""
        self._server = await serve(self._handle, "127.0.0.1", self.port, compression=None)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listener and every connection (workers see the engine go away)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, ws: ServerConnection) -> None:
        frames: list[Frame] = []
        self.connections.append(frames)
        self.sockets.append(ws)
        self._changed.set()
        try:
            async for text in ws:
                frame = json.loads(text)
                frames.append(frame)
                self._changed.set()
                if frame.get("type") == "ping":
                    await ws.send('{"type":"pong"}')
                elif self.on_frame is not None:
                    await self.on_frame(ws, frame)
        except ConnectionClosed:
            pass

    async def wait_for(
        self, match: Callable[[Frame], bool], *, connection: int = -1, timeout: float = 5.0
    ) -> Frame:
        """The first frame of a connection (default: the latest) that ``match`` accepts."""

        async def find() -> Frame:
            while True:
                frames = self.connections[connection] if self._has(connection) else []
                for frame in list(frames):
                    if match(frame):
                        return frame
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(find(), timeout)

    def _has(self, connection: int) -> bool:
        return -len(self.connections) <= connection < len(self.connections)

    async def send(self, frame: Frame, *, connection: int = -1) -> None:
        """Write one frame to a worker."""
        await self.sockets[connection].send(json.dumps(frame))


@pytest.fixture
async def wire() -> AsyncIterator[WireServer]:
    """A :class:`WireServer` on a free port, closed after the test."""
    server = WireServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
