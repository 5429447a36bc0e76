"""The Bridge: a worker's connection to the iii engine."""

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
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from .errors import ConnectionClosedError, InvocationTimeoutError, error_from_wire
from .handlers import run_invocation
from .logger import Logger, reset_log_bridge, set_log_bridge
from .messages import (
    ErrorMessage,
    InvocationResult,
    InvokeFunction,
    Message,
    Ping,
    Pong,
    RegisterTrigger,
    TriggerInfo,
    TriggerRegistrationResult,
    UnregisterTrigger,
    WorkerRegistered,
    encode_frame,
    parse_frame,
)
from .refs import FunctionRef, TriggerRef, TriggerTypeRef
from .registrations import Registrations
from .registry import Handler, Registry
from .tracing import current_trace, new_trace
from .transport import Transport
from .validate import check_number, check_str

DEFAULT_URL = "ws://127.0.0.1:49134"
# Forwarded log records kept while the socket is closed; more are dropped (logs are best effort).
MAX_QUEUED_LOGS = 1000
H = TypeVar("H", bound=Callable[..., Any])
log = logging.getLogger("iii")


class Bridge(Registrations):
    """A worker's WebSocket bridge to the engine.

    ``Bridge(url=None)`` uses ``III_BRIDGE_URL`` or ``ws://127.0.0.1:49134``. Registrations may
    be made before or after :meth:`connect`: made after, they are sent at once; all of them are
    replayed after every reconnect. Use ``async with Bridge() as bridge:`` for a scoped
    connection, or :meth:`connect` / :meth:`disconnect`.

    Options (keyword-only): ``name`` (reported to the engine), ``connect_timeout`` (seconds
    :meth:`connect` keeps trying, default 10), ``invocation_timeout`` (default for
    :meth:`invoke_function`, 30 s), ``reconnect`` (default on) with
    ``reconnect_initial_delay`` / ``reconnect_max_delay`` (exponential backoff with jitter),
    ``forward_logs`` (default on: :class:`~iii.Logger` records logged by this bridge's handlers,
    or through :attr:`logger`, are also sent to the engine's ``logger.log``).
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
        self.url = url
        self.name = name
        self.invocation_timeout = float(invocation_timeout)
        self.forward_logs = bool(forward_logs)
        self._logger: Logger | None = None
        self.worker_id: str | None = None
        self._registry = Registry()
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._pongs: deque[asyncio.Future[None]] = deque()
        self._queued: deque[tuple[str, str | None]] = deque()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._stopped: asyncio.Event | None = None
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
        :class:`~iii.errors.ConnectionFailedError`. Calling it when connected does nothing.
        """
        if self.connected:
            return
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._stopped = asyncio.Event()
        await self._transport.start()
        await self.flush(timeout=2.0)

    async def disconnect(self) -> None:
        """Close the connection, fail waiting calls, stop running handlers. Safe to call twice."""
        await self._transport.stop()
        self._fail_pending(ConnectionClosedError("the bridge was disconnected"))
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

    # ----- calls -----------------------------------------------------------------------------

    async def invoke_function(
        self,
        function_path: str,
        data: Any = None,
        *,
        timeout: float | None = None,
        trigger: dict[str, Any] | TriggerInfo | None = None,
    ) -> Any:
        """Call a function anywhere in the system and return its result.

        Raises the :class:`~iii.errors.IIIError` subclass matching the error code
        (``function_not_found``, ``invocation_failed``, ``invocation_timeout``, ...).
        ``timeout`` (seconds, default ``invocation_timeout``) is sent as ``timeout_ms`` and
        also enforced locally. ``trigger`` marks the call as trigger-caused (conditions run).
        """
        check_str("function_path", function_path)
        timeout = self.invocation_timeout if timeout is None else timeout
        check_number("timeout", timeout)
        invocation_id = uuid.uuid4().hex
        text = self._encode_invoke(function_path, data, invocation_id, timeout, trigger)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self._pending[invocation_id] = fut
        self._send_text(text, queue=True, invocation_id=invocation_id)
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise InvocationTimeoutError(
                f"{function_path} gave no result within {timeout:g}s"
            ) from None
        finally:
            self._pending.pop(invocation_id, None)

    def invoke_function_async(
        self, function_path: str, data: Any = None, *, trigger: dict[str, Any] | None = None
    ) -> None:
        """Fire-and-forget call: sent at once (queued while disconnected); no result, no error."""
        check_str("function_path", function_path)
        self._send_text(self._encode_invoke(function_path, data, None, None, trigger), queue=True)

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
        if not self._transport.send(text) and queue:
            self._queued.append((text, invocation_id))

    def _send(self, msg: Message) -> None:
        self._send_text(encode_frame(msg), queue=False)

    def _forward_log(self, entry: dict[str, Any]) -> None:
        """Send a log record to the engine's ``logger.log``, fire-and-forget; never raises."""
        if not self.forward_logs or self._loop is None:
            return  # never connected
        if self._stopped is not None and self._stopped.is_set():
            return  # disconnected for good
        if not self.connected and len(self._queued) >= MAX_QUEUED_LOGS:
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

    def _on_open(self) -> list[str]:
        frames = [encode_frame(m) for m in self._registry.replay()]
        # Queued calls whose caller gave up (local timeout) are not sent.
        frames.extend(t for t, i in self._queued if i is None or i in self._pending)
        self._queued.clear()
        return frames

    def _on_close(self) -> None:
        self.worker_id = None
        self._fail_pending(ConnectionClosedError("the connection to the engine closed"))

    def _fail_pending(self, exc: Exception) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(exc)
        self._pending.clear()
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
            fut = self._pending.get(msg.invocation_id)
            if fut is not None and not fut.done():
                if msg.error is not None:
                    fut.set_exception(error_from_wire(msg.error.model_dump()))
                else:
                    fut.set_result(msg.result)
        elif isinstance(msg, WorkerRegistered):
            self.worker_id = msg.worker_id
            info = {
                "runtime": "python",
                "version": platform.python_version(),
                "os": f"{platform.system().lower()} {platform.release()}",
            }
            if self.name:
                info["name"] = self.name
            self.invoke_function_async("engine.workers.register", info)
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
            self._spawn(self._forward_unregister(msg))
        elif isinstance(msg, ErrorMessage):
            log.warning("engine error %s: %s (ref=%s)", msg.code, msg.message, msg.ref)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_invocation(self, msg: InvokeFunction) -> None:
        entry = self._registry.functions.get(msg.function_path)
        # Loggers used while the handler runs (in this task, or its worker thread) forward here.
        token = set_log_bridge(self)
        try:
            reply = await run_invocation(msg, entry[1] if entry else None)
        finally:
            reset_log_bridge(token)
        if reply is not None:
            self._send_text(reply, queue=False)

    async def _answer_trigger(self, msg: RegisterTrigger) -> None:
        entry = self._registry.trigger_types.get(msg.trigger_type)
        error = None
        try:
            if entry is None:
                raise ValueError(f"this worker does not own trigger type {msg.trigger_type!r}")
            callback = entry[1].on_register
            if callback is not None:
                result = callback(msg)
                if asyncio.iscoroutine(result):
                    await result
        except Exception as exc:
            error = {"code": "trigger_rejected", "message": str(exc) or type(exc).__name__}
        self._send(
            TriggerRegistrationResult.model_validate(
                {
                    "id": msg.id,
                    "trigger_type": msg.trigger_type,
                    "function_path": msg.function_path,
                    "error": error,
                }
            )
        )

    async def _forward_unregister(self, msg: UnregisterTrigger) -> None:
        for _, handlers in self._registry.trigger_types.values():
            if handlers.on_unregister is not None and msg.trigger_type in (None, _.id):
                try:
                    result = handlers.on_unregister(msg.id)
                    if asyncio.iscoroutine(result):
                        await result
                except Exception:
                    log.exception("on_unregister for trigger %s failed", msg.id)


# Re-exported for type checkers that look here for the registration handle types.
__all__ = ["DEFAULT_URL", "Bridge", "FunctionRef", "Handler", "TriggerRef", "TriggerTypeRef"]
