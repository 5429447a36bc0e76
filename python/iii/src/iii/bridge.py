"""The Bridge: a worker's connection to the iii engine.

The Bridge is a facade over four parts, each with one reason to change: ``transport``
(:mod:`iii.transport`, the socket and its reconnects), ``registrations``
(:mod:`iii.registrations`, what this worker offers and its replay), ``calls``
(:mod:`iii.calls`, calls waiting for answers and the send queue) and :mod:`iii.handlers`
(running the engine's calls). It decodes incoming frames and routes them to those parts.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import platform
import threading
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from pydantic import ValidationError

from .calls import Calls
from .errors import BridgeClosedError, InvocationStoppedError, InvocationTimeoutError
from .handlers import run_invocation
from .logger import Logger, reset_log_sink, set_log_sink
from .messages import (
    ErrorMessage,
    InvocationResult,
    InvokeFunction,
    Message,
    Ping,
    Pong,
    RegisterFunction,
    RegisterTrigger,
    TriggerInfo,
    UnregisterTrigger,
    WorkerRegistered,
    encode_frame,
    parse_frame,
)
from .refs import ConditionRef, FunctionRef, TriggerRef, TriggerTypeRef
from .registrations import Registrations
from .registry import Handler, TriggerCallback
from .tracing import current_trace, new_trace
from .transport import Transport
from .validate import check_number, check_str

DEFAULT_URL = "ws://127.0.0.1:49134"
DEFAULT_MAX_QUEUED_MESSAGES = 10_000
# Forwarded log records kept while the socket is closed; more are dropped (logs are best effort).
MAX_QUEUED_LOGS = 1000
H = TypeVar("H", bound=Callable[..., Any])
log = logging.getLogger("iii")


class Bridge:
    """A worker's WebSocket bridge to the engine.

    ``Bridge(url=None)`` uses ``III_BRIDGE_URL`` or ``ws://127.0.0.1:49134``. Registrations may
    be made before or after :meth:`connect`: made after, they are sent at once; all of them are
    replayed after every reconnect. Use ``async with Bridge() as bridge:`` for a scoped
    connection, or :meth:`connect` / :meth:`disconnect`.

    Options (keyword-only): ``name`` (reported to the engine), ``connect_timeout`` (seconds
    :meth:`connect` keeps trying, default 10), ``invocation_timeout`` (default for
    :meth:`invoke_function`, 30 s), ``reconnect`` (default on) with
    ``reconnect_initial_delay`` / ``reconnect_max_delay`` (0.1 s / 5 s; exponential backoff with
    equal jitter), ``max_queued_messages`` (calls kept while disconnected, default 10000; more
    raise :class:`~iii.errors.QueueFullError`), ``forward_logs`` (default on:
    :class:`~iii.Logger` records logged by this bridge's handlers, or through :attr:`logger`,
    are also sent to the engine's ``logger.log``; the Bridge is the :class:`~iii.LogSink`).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        name: str | None = None,
        connect_timeout: float = 10.0,
        invocation_timeout: float = 30.0,
        reconnect: bool = True,
        reconnect_initial_delay: float = 0.1,
        reconnect_max_delay: float = 5.0,
        max_queued_messages: int = DEFAULT_MAX_QUEUED_MESSAGES,
        forward_logs: bool = True,
    ) -> None:
        if url is not None and not isinstance(url, str):
            raise TypeError(f"Bridge url must be a str or None, got {type(url).__name__}")
        url = url or os.environ.get("III_BRIDGE_URL") or DEFAULT_URL
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"Bridge url must start with ws:// or wss://, got {url!r}")
        if name is not None:
            check_str("name", name)
        check_number("connect_timeout", connect_timeout)
        check_number("invocation_timeout", invocation_timeout)
        check_number("reconnect_initial_delay", reconnect_initial_delay)
        check_number("reconnect_max_delay", reconnect_max_delay)
        if isinstance(max_queued_messages, bool) or not isinstance(max_queued_messages, int):
            raise TypeError(
                f"max_queued_messages must be an int, got {type(max_queued_messages).__name__}"
            )
        if max_queued_messages < 1:
            raise ValueError(f"max_queued_messages must be positive, got {max_queued_messages}")
        self.url = url
        self.name = name
        self.invocation_timeout = float(invocation_timeout)
        self.forward_logs = bool(forward_logs)
        self.worker_id: str | None = None
        self.registrations = Registrations(self._send)
        """What this worker offers; its methods are also the Bridge's ``register_*``."""
        self.calls = Calls(max_queued_messages)
        """Calls waiting for their answers, and frames queued while disconnected."""
        self._logger: Logger | None = None
        self._pongs: deque[asyncio.Future[None]] = deque()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._stopped: asyncio.Event | None = None
        self._closed = False
        self._transport = Transport(
            url,
            on_open=self._on_open,
            on_text=self._on_text,
            on_close=self._on_close,
            connect_timeout=float(connect_timeout),
            reconnect=bool(reconnect),
            reconnect_initial_delay=float(reconnect_initial_delay),
            reconnect_max_delay=float(reconnect_max_delay),
        )

    # ----- lifecycle -------------------------------------------------------------------------

    @property
    def logger(self) -> Logger:
        """A :class:`~iii.Logger` (name ``iii``) that forwards through this bridge."""
        if self._logger is None:
            self._logger = Logger("iii", bridge=self)
        return self._logger

    @property
    def connected(self) -> bool:
        """Whether the socket to the engine is open right now."""
        return self._transport.is_open

    async def connect(self) -> None:
        """Connect, send every registration, and return once the engine has taken them.

        Keeps retrying (backoff with jitter) for ``connect_timeout`` seconds, then raises
        :class:`~iii.errors.ConnectionFailedError` (:class:`~iii.errors.BridgeClosedError` if
        :meth:`disconnect` is called meanwhile). Calling it when connected does nothing; after
        :meth:`disconnect` it connects again and replays the registrations.
        """
        if self.connected:
            return
        self._closed = False
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._stopped = asyncio.Event()
        await self._transport.start()
        await self.flush(timeout=2.0)

    async def disconnect(self) -> None:
        """Close the connection, stop running handlers, and fail waiting calls with
        :class:`~iii.errors.BridgeClosedError` (calls made afterwards too, until the next
        :meth:`connect`). Registrations are kept. Safe to call twice."""
        self._closed = True
        self.calls.fail_all(BridgeClosedError("the bridge was disconnected"))
        self.calls.clear_queue()
        await self._transport.stop()
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._stopped is not None:
            self._stopped.set()

    async def serve_forever(self) -> None:
        """Wait until :meth:`disconnect` is called (connects first if needed)."""
        if not self.connected:
            await self.connect()
        assert self._stopped is not None
        await self._stopped.wait()

    async def flush(self, *, timeout: float = 5.0) -> bool:
        """Wait until the engine has taken every frame sent so far (a ping/pong round trip).

        Returns ``False`` if no ``pong`` came back within ``timeout`` seconds.
        """
        if not self.connected:
            return False
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pongs.append(fut)
        self._send_text(encode_frame(Ping()), queue=False)
        try:
            await asyncio.wait_for(fut, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            if fut in self._pongs:
                self._pongs.remove(fut)

    async def __aenter__(self) -> Bridge:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.disconnect()

    # ----- registrations (see iii.registrations.Registrations) -------------------------------

    @overload
    def register_function(
        self,
        function_path: str | RegisterFunction | dict[str, Any],
        handler: Handler,
        *,
        description: str | None = None,
        request_format: Any = None,
        response_format: Any = None,
        metadata: dict[str, Any] | None = None,
    ) -> FunctionRef: ...

    @overload
    def register_function(
        self,
        function_path: str | RegisterFunction | dict[str, Any],
        handler: None = None,
        *,
        description: str | None = None,
        request_format: Any = None,
        response_format: Any = None,
        metadata: dict[str, Any] | None = None,
    ) -> Callable[[H], H]: ...

    def register_function(
        self,
        function_path: str | RegisterFunction | dict[str, Any],
        handler: Handler | None = None,
        **options: Any,
    ) -> FunctionRef | Callable[[H], H]:
        """Register a function the engine may call (keyword, positional, message and
        decorator forms); see :meth:`Registrations.register_function`."""
        return self.registrations.register_function(function_path, handler, **options)

    def unregister_function(self, function_path: str) -> None:
        """Remove a function registered by this worker."""
        self.registrations.unregister_function(function_path)

    def register_trigger(
        self,
        trigger_type: str,
        function_path: str,
        config: dict[str, Any],
        *,
        id: str | None = None,
    ) -> TriggerRef:
        """Bind a trigger to a function; see :meth:`Registrations.register_trigger`."""
        return self.registrations.register_trigger(trigger_type, function_path, config, id=id)

    def unregister_trigger(self, id: str) -> None:
        """Remove a trigger registered by this worker."""
        self.registrations.unregister_trigger(id)

    def register_condition(self, function_path: str, condition_function_path: str) -> ConditionRef:
        """Guard a function with a condition; see :meth:`Registrations.register_condition`."""
        return self.registrations.register_condition(function_path, condition_function_path)

    def unregister_condition(self, function_path: str, condition_function_path: str) -> None:
        """Remove a condition binding (the condition function stays registered)."""
        self.registrations.unregister_condition(function_path, condition_function_path)

    def register_trigger_type(
        self,
        id: str,
        description: str | None = None,
        *,
        on_register: TriggerCallback | None = None,
        on_unregister: Callable[[str], Awaitable[None] | None] | None = None,
    ) -> TriggerTypeRef:
        """Own a trigger type; see :meth:`Registrations.register_trigger_type`."""
        return self.registrations.register_trigger_type(
            id, description, on_register=on_register, on_unregister=on_unregister
        )

    def unregister_trigger_type(self, id: str) -> None:
        """Give up a trigger type this worker owns."""
        self.registrations.unregister_trigger_type(id)

    def register_service(
        self,
        id: str,
        name: str | None = None,
        *,
        description: str | None = None,
        parent_service_id: str | None = None,
    ) -> None:
        """Describe a service that groups functions (informational)."""
        self.registrations.register_service(
            id, name, description=description, parent_service_id=parent_service_id
        )

    # ----- calls -----------------------------------------------------------------------------

    async def invoke_function(
        self,
        function_path: str,
        data: Any = None,
        *,
        timeout: float | None = None,
        trigger: dict[str, Any] | TriggerInfo | None = None,
    ) -> Any:
        """Call a function anywhere in the system and return its result (``None`` if absent).

        Raises the :class:`~iii.errors.IIIError` subclass matching the error code
        (``function_not_found``, ``invocation_failed``, ``invocation_timeout``, a handler's own
        code, ...); locally ``invocation_stopped`` when the connection drops while the call
        waits, ``bridge_closed`` after :meth:`disconnect`, ``queue_full`` when the queue of a
        disconnected bridge is full. ``timeout`` (seconds, default ``invocation_timeout``) is
        sent as ``timeout_ms`` and also enforced locally. ``trigger`` marks the call as
        trigger-caused (conditions run).
        """
        check_str("function_path", function_path)
        timeout = self.invocation_timeout if timeout is None else timeout
        check_number("timeout", timeout)
        self._check_open()
        invocation_id = uuid.uuid4().hex
        text = self._encode_invoke(function_path, data, invocation_id, timeout, trigger)
        if not self.connected:
            self.calls.check_room()
        fut = self.calls.add(invocation_id)
        self._send_text(text, queue=True, invocation_id=invocation_id)
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise InvocationTimeoutError(
                f"{function_path} gave no result within {timeout:g}s"
            ) from None
        finally:
            self.calls.forget(invocation_id)

    def invoke_function_async(
        self, function_path: str, data: Any = None, *, trigger: dict[str, Any] | None = None
    ) -> None:
        """Fire-and-forget call: sent at once (queued while disconnected); no result, no error.

        Raises :class:`~iii.errors.QueueFullError` when the queue of a disconnected bridge is
        full and :class:`~iii.errors.BridgeClosedError` after :meth:`disconnect`.
        """
        check_str("function_path", function_path)
        self._check_open()
        text = self._encode_invoke(function_path, data, None, None, trigger)
        if not self.connected:
            self.calls.check_room()
        self._send_text(text, queue=True)

    def forward_log(self, entry: dict[str, Any]) -> None:
        """The :class:`~iii.LogSink` method: send a record to the engine's ``logger.log``.

        Fire-and-forget and never raises; dropped when ``forward_logs`` is off, before the
        first :meth:`connect`, after :meth:`disconnect`, and while disconnected once
        ``min(1000, max_queued_messages / 2)`` frames are queued (logs never fill the queue).
        """
        if not self.forward_logs or self._loop is None or self._closed:
            return
        if not self.connected and self.calls.queued >= min(
            MAX_QUEUED_LOGS, self.calls.max_queued // 2
        ):
            return
        try:
            try:
                text = self._encode_invoke("logger.log", entry, None, None, None)
            except TypeError:  # data that is not JSON: send its repr
                plain = json.loads(json.dumps(entry, default=repr))
                text = self._encode_invoke("logger.log", plain, None, None, None)
            self._send_text(text, queue=True)
        except Exception:  # logging is best effort
            return

    def _check_open(self) -> None:
        if self._closed:
            raise BridgeClosedError("the bridge was disconnected; call connect() again first")

    def _encode_invoke(
        self,
        function_path: str,
        data: Any,
        invocation_id: str | None,
        timeout: float | None,
        trigger: dict[str, Any] | TriggerInfo | None,
    ) -> str:
        trace = current_trace() or new_trace()
        try:
            msg = InvokeFunction(
                invocation_id=invocation_id,
                function_path=function_path,
                data=data,
                trigger=TriggerInfo.model_validate(trigger)
                if isinstance(trigger, dict)
                else trigger,
                traceparent=trace.traceparent,
                baggage=trace.baggage,
                timeout_ms=max(1, round(timeout * 1000)) if timeout is not None else None,
            )
            return encode_frame(msg)
        except (ValidationError, ValueError) as exc:
            raise TypeError(f"cannot send {function_path}: {exc}") from None

    # ----- the socket side -------------------------------------------------------------------

    def _send_text(self, text: str, *, queue: bool, invocation_id: str | None = None) -> None:
        """Send now if connected; else queue (calls) or drop (registrations: replayed)."""
        loop = self._loop
        if loop is not None and self._loop_thread != threading.get_ident():
            send = functools.partial(
                self._send_text, text, queue=queue, invocation_id=invocation_id
            )
            loop.call_soon_threadsafe(send)
            return
        if not self._transport.send(text) and queue and not self._closed:
            try:
                self.calls.queue(text, invocation_id)
            except Exception as exc:  # full since the caller's check (another thread won)
                log.warning("dropping a call to the engine: %s", exc)

    def _send(self, msg: Message) -> None:
        self._send_text(encode_frame(msg), queue=False)

    def _on_open(self) -> list[str]:
        # The replay first, then what was queued (calls whose caller gave up are dropped).
        frames = [encode_frame(m) for m in self.registrations.replay()]
        frames.extend(self.calls.drain())
        return frames

    def _on_close(self) -> None:
        self.worker_id = None
        self.calls.fail_all(
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
            self._spawn(self._answer_invocation(msg))
        elif isinstance(msg, InvocationResult):
            self.calls.resolve(msg)
        elif isinstance(msg, WorkerRegistered):
            self.worker_id = msg.worker_id
            self._describe_worker()
        elif isinstance(msg, Ping):
            self._send(Pong())
        elif isinstance(msg, Pong):
            if self._pongs:
                fut = self._pongs.popleft()
                if not fut.done():
                    fut.set_result(None)
        elif isinstance(msg, RegisterTrigger):
            self._spawn(self._answer_trigger(msg))
        elif isinstance(msg, UnregisterTrigger):
            self._spawn(self.registrations.forward_unregister(msg))
        elif isinstance(msg, ErrorMessage):
            log.warning("engine error %s: %s (ref=%s)", msg.code, msg.message, msg.ref)

    def _describe_worker(self) -> None:
        info = {
            "runtime": "python",
            "version": platform.python_version(),
            "os": f"{platform.system().lower()} {platform.release()}",
        }
        if self.name:
            info["name"] = self.name
        self.invoke_function_async("engine.workers.register", info)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_invocation(self, msg: InvokeFunction) -> None:
        # Loggers used while the handler runs (in this task, or its worker thread) forward here.
        token = set_log_sink(self)
        try:
            reply = await run_invocation(msg, self.registrations.handler(msg.function_path))
        finally:
            reset_log_sink(token)
        if reply is not None:
            self._send_text(reply, queue=False)

    async def _answer_trigger(self, msg: RegisterTrigger) -> None:
        self._send(await self.registrations.answer_trigger(msg))


# Re-exported for type checkers that look here for the registration handle types.
__all__ = ["DEFAULT_URL", "Bridge", "FunctionRef", "Handler", "TriggerRef", "TriggerTypeRef"]
