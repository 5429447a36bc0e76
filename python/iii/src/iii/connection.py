"""The live side of a Bridge: one :class:`~iii.transport.Transport`, what arrives on it, and
how frames are sent (from the loop or from handler threads).

:class:`Connection` decodes every incoming frame and routes it: calls from the engine run
through :mod:`iii.handlers` (with the bridge installed as the :class:`~iii.LogSink`), answers
settle :class:`~iii.calls.Calls`, trigger-type questions go to
:class:`~iii.registrations.Registrations`. On every (re)connect it writes the registration
replay, then the queued frames; when a connection ends, waiting calls fail with
``invocation_stopped``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import platform
import threading
from collections import deque
from collections.abc import Coroutine
from typing import Any

from .calls import Calls, encode_invoke
from .errors import InvocationStoppedError
from .handlers import run_invocation
from .logger import LogSink, reset_log_sink, set_log_sink
from .messages import (
    ErrorMessage,
    InvocationResult,
    InvokeFunction,
    Message,
    Ping,
    Pong,
    RegisterTrigger,
    UnregisterTrigger,
    WorkerRegistered,
    encode_frame,
    parse_frame,
)
from .options import BridgeOptions
from .registrations import Registrations
from .transport import Transport

log = logging.getLogger("iii")


class Connection:
    """Keeps a bridge's socket, routes what arrives, and sends what the bridge asks."""

    def __init__(
        self, options: BridgeOptions, registrations: Registrations, calls: Calls, sink: LogSink
    ) -> None:
        self._name = options.name
        self._registrations = registrations
        self._calls = calls
        self._sink = sink
        self.worker_id: str | None = None
        self.transport = Transport(
            options.url,
            on_open=self._on_open,
            on_text=self._on_text,
            on_close=self._on_close,
            connect_timeout=options.connect_timeout,
            reconnect=options.reconnect,
            reconnect_initial_delay=options.reconnect_initial_delay,
            reconnect_max_delay=options.reconnect_max_delay,
            token=options.token,
        )
        self._pongs: deque[asyncio.Future[None]] = deque()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._invocations: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    @property
    def is_open(self) -> bool:
        """Whether the socket is open right now."""
        return self.transport.is_open

    @property
    def started(self) -> bool:
        """Whether :meth:`start` was called on some loop (frames can be sent through it)."""
        return self._loop is not None

    async def start(self) -> None:
        """Open the socket (see :meth:`Transport.start` for the errors)."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        await self.transport.start()

    async def stop(self) -> None:
        """Close the socket and cancel the handlers still running. Safe to call twice."""
        await self.transport.stop()
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def idle(self, timeout: float) -> int:
        """Wait up to ``timeout`` seconds for the running handlers; return how many still run."""
        running = [t for t in self._invocations if not t.done()]
        if running:
            await asyncio.wait(running, timeout=timeout)
        return sum(1 for t in self._invocations if not t.done())

    async def flush(self, timeout: float) -> bool:
        """A ``ping``/``pong`` round trip: ``True`` once the engine has read all sent before."""
        if not self.is_open:
            return False
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pongs.append(fut)
        self.send(Ping())
        try:
            await asyncio.wait_for(fut, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            if fut in self._pongs:
                self._pongs.remove(fut)

    def send_text(self, text: str, *, queue: bool, invocation_id: str | None = None) -> None:
        """Send now if open; else queue it (``queue``: calls) or drop it (registrations, which
        the replay sends). Callable from any thread."""
        loop = self._loop
        if loop is not None and self._loop_thread != threading.get_ident():
            send = functools.partial(self.send_text, text, queue=queue, invocation_id=invocation_id)
            loop.call_soon_threadsafe(send)
            return
        if not self.transport.send(text) and queue:
            try:
                self._calls.queue(text, invocation_id)
            except Exception as exc:  # filled up since the caller's check (another thread)
                log.warning("dropping a call to the engine: %s", exc)

    def send(self, msg: Message) -> None:
        """Send a frame now if open (never queued)."""
        self.send_text(encode_frame(msg), queue=False)

    def _on_open(self) -> list[str]:
        # The replay first, then what was queued (calls whose caller gave up are dropped).
        frames = [encode_frame(m) for m in self._registrations.replay()]
        frames.extend(self._calls.drain())
        return frames

    def _on_close(self) -> None:
        self.worker_id = None
        self._calls.fail_all(
            InvocationStoppedError("the connection to the engine closed while the call waited")
        )
        while self._pongs:
            fut = self._pongs.popleft()
            if not fut.done():
                fut.set_result(None)

    def _on_text(self, text: str) -> None:
        try:
            msg = parse_frame(text)
        except Exception as exc:
            log.warning("ignoring a frame the SDK could not parse: %s", exc)
            return
        if isinstance(msg, InvokeFunction):
            task = self._spawn(self._answer_invocation(msg))
            self._invocations.add(task)
            task.add_done_callback(self._invocations.discard)
        elif isinstance(msg, InvocationResult):
            self._calls.resolve(msg)
        elif isinstance(msg, WorkerRegistered):
            self.worker_id = msg.worker_id
            self._describe_worker()
        elif isinstance(msg, Ping):
            self.send(Pong())
        elif isinstance(msg, Pong):
            if self._pongs:
                fut = self._pongs.popleft()
                if not fut.done():
                    fut.set_result(None)
        elif isinstance(msg, RegisterTrigger):
            self._spawn(self._answer_trigger(msg))
        elif isinstance(msg, UnregisterTrigger):
            self._spawn(self._registrations.forward_unregister(msg))
        elif isinstance(msg, ErrorMessage):
            log.warning("engine error %s: %s (ref=%s)", msg.code, msg.message, msg.ref)

    def _describe_worker(self) -> None:
        info = {
            "runtime": "python",
            "version": platform.python_version(),
            "os": f"{platform.system().lower()} {platform.release()}",
        }
        if self._name:
            info["name"] = self._name
        self.send_text(
            encode_invoke("engine.workers.register", info, None, None, None), queue=False
        )

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _answer_invocation(self, msg: InvokeFunction) -> None:
        # Loggers used while the handler runs (in this task, or its worker thread) forward here.
        token = set_log_sink(self._sink)
        try:
            reply = await run_invocation(msg, self._registrations.handler(msg.function_path))
        finally:
            reset_log_sink(token)
        if reply is not None:
            self.send_text(reply, queue=False)

    async def _answer_trigger(self, msg: RegisterTrigger) -> None:
        self.send(await self._registrations.answer_trigger(msg))
