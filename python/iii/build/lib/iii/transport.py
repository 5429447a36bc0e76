"""The socket edge: one WebSocket to the engine, kept open with backoff-and-jitter reconnects.

The transport knows nothing about frames: it hands received text to ``on_text`` and writes text
it is given, in order. ``on_open`` returns the texts to send first on every (re)connection (the
bridge's registration replay); ``on_close`` runs when a connection ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI

from .errors import ConnectionFailedError

log = logging.getLogger("iii.transport")

MAX_FRAME_BYTES = 16 * 1024 * 1024


def backoff_delay(attempt: int, *, initial: float, maximum: float) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, capped at ``maximum``."""
    ceiling = min(maximum, initial * (2 ** min(attempt, 30)))
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))


class Transport:
    """Keeps one WebSocket to ``url`` open until :meth:`stop`."""

    def __init__(
        self,
        url: str,
        *,
        on_open: Callable[[], list[str]],
        on_text: Callable[[str], None],
        on_close: Callable[[], None],
        connect_timeout: float,
        reconnect: bool,
        reconnect_initial_delay: float,
        reconnect_max_delay: float,
    ) -> None:
        self.url = url
        self._on_open = on_open
        self._on_text = on_text
        self._on_close = on_close
        self._connect_timeout = connect_timeout
        self._reconnect = reconnect
        self._initial = reconnect_initial_delay
        self._max = reconnect_max_delay
        self._ws: ClientConnection | None = None
        self._outbox: deque[str] = deque()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.connections = 0

    @property
    def is_open(self) -> bool:
        """Whether a connection is open right now."""
        return self._ws is not None

    async def start(self) -> None:
        """Open the first connection; raise :class:`ConnectionFailedError` after the timeout."""
        if self._task is not None and not self._task.done():
            return
        self._stopping = False
        self._wake = asyncio.Event()
        first: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(first), name="iii-transport")
        try:
            await first
        except BaseException:
            await self.stop()
            raise

    def send(self, text: str) -> bool:
        """Queue ``text`` on the open connection (call on the loop thread); ``False`` if closed."""
        if self._ws is None or self._wake is None:
            return False
        self._outbox.append(text)
        self._wake.set()
        return True

    async def stop(self) -> None:
        """Close the connection and stop reconnecting. Safe to call twice."""
        self._stopping = True
        task, self._task = self._task, None
        ws = self._ws
        if ws is not None:
            await ws.close()
        if task is not None and not task.done():
            task.cancel()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self, first: asyncio.Future[None]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._connect_timeout
        attempt = 0
        while not self._stopping:
            try:
                ws = await connect(
                    self.url,
                    open_timeout=max(0.1, min(self._connect_timeout, 10.0)),
                    max_size=MAX_FRAME_BYTES,
                    compression=None,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not first.done():
                    remaining = deadline - loop.time()
                    if isinstance(exc, InvalidURI) or remaining <= 0:
                        first.set_exception(
                            ConnectionFailedError(f"could not connect to {self.url}: {exc}")
                        )
                        return
                delay = backoff_delay(attempt, initial=self._initial, maximum=self._max)
                if not first.done():
                    delay = min(delay, max(0.0, deadline - loop.time()))
                attempt += 1
                log.debug("connect to %s failed (%s); retrying in %.2fs", self.url, exc, delay)
                await asyncio.sleep(delay)
                continue
            attempt = 0
            await self._serve(ws, first)
            if not self._reconnect:
                break

    async def _serve(self, ws: ClientConnection, first: asyncio.Future[None]) -> None:
        self._ws = ws
        self.connections += 1
        self._outbox = deque(self._on_open())
        assert self._wake is not None
        self._wake.set()
        writer = asyncio.create_task(self._write(ws), name="iii-writer")
        if not first.done():
            first.set_result(None)
        try:
            async for text in ws:
                self._on_text(text if isinstance(text, str) else text.decode("utf-8", "replace"))
        except ConnectionClosed:
            pass
        finally:
            writer.cancel()
            self._ws = None
            self._outbox.clear()
            if not self._stopping:
                log.warning("connection to %s closed; reconnecting", self.url)
            self._on_close()

    async def _write(self, ws: ClientConnection) -> None:
        wake = self._wake
        assert wake is not None
        try:
            while True:
                while self._outbox:
                    await ws.send(self._outbox.popleft())
                wake.clear()
                await wake.wait()
        except ConnectionClosed:
            pass
