"""The socket edge: one WebSocket to the engine, kept open with backoff-and-jitter reconnects.

The transport knows nothing about frames: it hands received text to ``on_text`` and writes text
it is given, in order. ``on_open`` returns the texts to send first on every (re)connection (the
bridge's registration replay, then its queued calls); ``on_close`` runs when a connection ends.

The reconnect loop is websockets' own: ``async for ws in websockets.connect(...)`` opens a
connection, yields it, and when the body is done (the connection closed) opens the next one,
sleeping between failed attempts for the delays of :meth:`Transport.reconnect_delays` (the
contract's equal-jitter backoff, see :func:`backoff_delay`; websockets' default is a different,
much slower schedule). After a connection that was up the first attempt is immediate, unless
the connection lasted less than ``STABLE_CONNECTION_SECONDS``: then the body sleeps the next
backoff delay itself, so a server that closes every connection at once gets no hot loop of
reconnects and replays. Two more guarantees are ours, not websockets': an attempt that fails is
retried whatever the error (websockets' default gives up on some, e.g. an HTTP 4xx answer from
a proxy in front of an engine being redeployed), except that before the first connection
``connect_timeout`` bounds the whole wait and its expiry ends the loop with
:class:`~iii.errors.ConnectionFailedError`; and the replay is written before anything else on
each connection, because ``on_open`` fills the outbox before the writer task starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import AsyncGenerator, Callable, Generator
from typing import cast

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from .errors import BridgeClosedError, ConnectionFailedError

log = logging.getLogger("iii.transport")

MAX_FRAME_BYTES = 16 * 1024 * 1024
# A connection that ends sooner counts as a failed attempt for the backoff.
STABLE_CONNECTION_SECONDS = 1.0


def backoff_delay(attempt: int, *, initial: float, maximum: float) -> float:
    """Delay before retry ``attempt`` (0 for the first): exponential with "equal jitter".

    ``cap = min(maximum, initial * 2**attempt)`` and the delay is uniform in ``[cap/2, cap]``,
    the rule of ``protocol/sdk-cases.json`` shared with the Node SDK.
    """
    cap = min(maximum, initial * (2 ** min(attempt, 60)))
    return float(random.uniform(cap / 2, cap))


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
        token: str | None = None,
    ) -> None:
        self.url = url
        # Sent at every upgrade; never logged (the log lines name only the URL).
        self._headers = None if token is None else {"Authorization": f"Bearer {token}"}
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
        self._first: asyncio.Future[None] | None = None
        self._deadline = 0.0
        self._stopping = False
        self.connections = 0

    @property
    def is_open(self) -> bool:
        """Whether a connection is open right now."""
        return self._ws is not None

    async def start(self) -> None:
        """Open the first connection (while one is being opened, wait for that one).

        Raises :class:`ConnectionFailedError` after ``connect_timeout`` and
        :class:`BridgeClosedError` if :meth:`stop` is called first.
        """
        if self._task is not None and not self._task.done():
            if self._first is not None:  # a second caller joins the same wait
                await asyncio.shield(self._first)
            return
        self._stopping = False
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        first: asyncio.Future[None] = loop.create_future()
        self._first = first
        self._deadline = loop.time() + self._connect_timeout
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

    def reconnect_delays(self) -> Generator[float, None, None]:
        """The sleeps between failed attempts: :func:`backoff_delay` for attempts 0, 1, ...

        websockets starts a fresh generator after every successful connection. Before the first
        connection no sleep goes past the connect deadline.
        """
        attempt = 0
        loop = asyncio.get_running_loop()
        while True:
            delay = self._backoff(attempt)
            if self._first is not None and not self._first.done():
                delay = min(delay, max(0.0, self._deadline - loop.time()))
            attempt += 1
            yield delay

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, initial=self._initial, maximum=self._max)

    def _retry_or_fail(self, exc: Exception) -> Exception | None:
        """websockets' ``process_exception``: ``None`` retries, an exception ends the loop."""
        if isinstance(exc, InvalidStatus) and exc.response.status_code in (401, 403):
            # worker authentication said no: trying again cannot help
            why = (
                "no token was given (pass token= or set III_TOKEN)"
                if self._headers is None
                else "the token was not accepted (check token= or III_TOKEN)"
            )
            return ConnectionFailedError(
                f"the engine at {self.url} refused this worker with HTTP "
                f"{exc.response.status_code}: {why}; not retrying"
            )
        first = self._first
        waiting = first is not None and not first.done()
        if waiting and asyncio.get_running_loop().time() >= self._deadline:
            return ConnectionFailedError(f"could not connect to {self.url}: {exc}")
        log.debug("connect to %s failed (%s); retrying", self.url, exc)
        return None

    async def _run(self, first: asyncio.Future[None]) -> None:
        try:
            connector = connect(
                self.url,
                open_timeout=max(0.1, min(self._connect_timeout, 10.0)),
                max_size=MAX_FRAME_BYTES,
                compression=None,
                additional_headers=self._headers,
                process_exception=self._retry_or_fail,
                reconnect_delays=self.reconnect_delays,
            )
            # __aiter__ is an async generator: aclosing closes the connection it holds.
            connections = cast(AsyncGenerator[ClientConnection, None], aiter(connector))
            loop = asyncio.get_running_loop()
            short_lived = 0
            async with contextlib.aclosing(connections):
                async for ws in connections:
                    opened = loop.time()
                    await self._serve(ws, first)
                    if self._stopping or not self._reconnect:
                        break
                    # websockets reconnects at once after a connection that was up; one the
                    # server keeps closing right away would make that a hot loop.
                    if loop.time() - opened < STABLE_CONNECTION_SECONDS:
                        await asyncio.sleep(self._backoff(short_lived))
                        short_lived += 1
                    else:
                        short_lived = 0
        except Exception as exc:
            if first.done():
                log.error("giving up on %s: %s", self.url, exc)
            elif isinstance(exc, ConnectionFailedError):
                first.set_exception(exc)
            else:  # a bad URL, for one
                failed = ConnectionFailedError(f"could not connect to {self.url}: {exc}")
                first.set_exception(failed)
        finally:
            if not first.done():
                first.set_exception(BridgeClosedError("the bridge was closed while connecting"))

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
                try:
                    self._on_text(
                        text if isinstance(text, str) else text.decode("utf-8", "replace")
                    )
                except Exception:  # one bad frame must not end the connection
                    log.exception("handling a frame from %s failed", self.url)
        except ConnectionClosed:
            pass
        finally:
            writer.cancel()
            self._ws = None
            self._outbox.clear()
            if not self._stopping:
                # 1001 (going away) and 1012 (restart): the engine announced it; a warning is
                # for a connection that dropped without a word.
                code = ws.close_code
                level = logging.DEBUG if code in (1001, 1012) else logging.WARNING
                log.log(level, "connection to %s closed (code %s); reconnecting", self.url, code)
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
