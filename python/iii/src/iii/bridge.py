"""The Bridge: a worker's connection to the iii engine.

The Bridge is a facade over parts with one reason to change each: ``options``
(:mod:`iii.options`), ``registrations`` (:mod:`iii.registrations`, what this worker offers and
its replay), ``calls`` (:mod:`iii.calls`, calls waiting for answers and the send queue) and the
connection (:mod:`iii.connection`: the socket of :mod:`iii.transport`, and routing what arrives
to :mod:`iii.handlers` and the parts above).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from .calls import Calls, encode_invoke
from .connection import Connection
from .errors import BridgeClosedError, InvocationTimeoutError
from .logger import Logger, use_json_logs
from .messages import Message, RegisterFunction, TriggerInfo, UnregisterFunction
from .options import DEFAULT_MAX_QUEUED_MESSAGES, DEFAULT_URL, BridgeOptions
from .refs import ConditionRef, FunctionRef, TriggerRef, TriggerTypeRef
from .registrations import Registrations
from .registry import Handler, TriggerCallback
from .validate import check_number, check_str

# Forwarded log records kept while the socket is closed; more are dropped (logs are best effort).
MAX_QUEUED_LOGS = 1000
# How long a graceful shutdown waits for running handlers, in seconds.
DEFAULT_SHUTDOWN_GRACE = 10.0
log = logging.getLogger("iii")
H = TypeVar("H", bound=Callable[..., Any])


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
    are also sent to the engine's ``logger.log``; the Bridge is the :class:`~iii.LogSink`),
    ``token`` (the engine's worker authentication, sent at the upgrade as
    ``Authorization: Bearer <token>``; default ``III_TOKEN``; never logged or shown in a repr),
    ``log_format`` (``"text"`` or ``"json"``; default ``III_LOG_FORMAT``, else text: with json
    the ``iii`` logger writes one JSON object per line to stdout, see :func:`~iii.use_json_logs`).
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
        token: str | None = None,
        log_format: str | None = None,
    ) -> None:
        self.options = BridgeOptions.check(
            url,
            name=name,
            connect_timeout=connect_timeout,
            invocation_timeout=invocation_timeout,
            reconnect=reconnect,
            reconnect_initial_delay=reconnect_initial_delay,
            reconnect_max_delay=reconnect_max_delay,
            max_queued_messages=max_queued_messages,
            forward_logs=forward_logs,
            token=token,
            log_format=log_format,
        )
        """The validated options."""
        self.url = self.options.url
        self.name = self.options.name
        self.invocation_timeout = self.options.invocation_timeout
        self.forward_logs = self.options.forward_logs
        self.registrations = Registrations(self._send)
        """What this worker offers; its methods are also the Bridge's ``register_*``."""
        self.calls = Calls(self.options.max_queued_messages)
        """Calls waiting for their answers, and frames queued while disconnected."""
        self._connection = Connection(self.options, self.registrations, self.calls, self)
        self._transport = self._connection.transport  # for tests that count connections
        self._logger: Logger | None = None
        self._stopped: asyncio.Event | None = None
        self._closed = False
        if self.options.log_format == "json":
            use_json_logs()

    @property
    def worker_id(self) -> str | None:
        """The id the engine gave this worker on the current connection (``None`` when closed)."""
        return self._connection.worker_id

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
        return self._connection.is_open

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
        self._stopped = asyncio.Event()
        await self._connection.start()
        await self.flush(timeout=2.0)

    async def disconnect(self) -> None:
        """Close the connection, stop running handlers, and fail waiting calls with
        :class:`~iii.errors.BridgeClosedError` (calls made afterwards too, until the next
        :meth:`connect`). Registrations are kept. Safe to call twice."""
        self._closed = True
        self.calls.fail_all(BridgeClosedError("the bridge was disconnected"))
        self.calls.clear_queue()
        await self._connection.stop()
        if self._stopped is not None:
            self._stopped.set()

    async def shutdown(self, grace: float = DEFAULT_SHUTDOWN_GRACE) -> None:
        """Graceful shutdown (what SIGTERM/SIGINT do during :meth:`serve_forever`).

        The engine is told this worker serves none of its functions any more, so it routes no
        new calls here; the handlers running (and calls already on their way) finish and
        answer, for up to ``grace`` seconds (default 10); then the bridge disconnects.
        """
        loop = asyncio.get_running_loop()
        until = loop.time() + grace
        if self.connected:
            for path in list(self.registrations.registry.functions):
                self._connection.send(UnregisterFunction(function_path=path))
            # Calls the engine routed here before it read the unregistrations are on their
            # way: once the pong is back they have all arrived, and the wait below covers them.
            await self._connection.flush(grace)
        left = await self._connection.idle(max(0.0, until - loop.time()))
        if left:
            log.warning("%d handler(s) still running after %s s; disconnecting", left, grace)
        await self.disconnect()

    async def serve_forever(
        self, *, handle_signals: bool = True, shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE
    ) -> None:
        """Wait until :meth:`disconnect` is called (connects first if needed).

        With ``handle_signals`` (the default) and on the main thread, SIGTERM and SIGINT run
        :meth:`shutdown` (with ``shutdown_grace``) meanwhile, and this returns once it is done
        (so the script ends with status 0 after its handlers finished); a second signal is
        handled as before.
        """
        if not self.connected:
            await self.connect()
        assert self._stopped is not None
        signals = _install_signals(self, shutdown_grace) if handle_signals else []
        try:
            await self._stopped.wait()
        finally:
            loop = asyncio.get_running_loop()
            for sig in signals:
                loop.remove_signal_handler(sig)

    async def flush(self, *, timeout: float = 5.0) -> bool:
        """Wait until the engine has taken every frame sent so far (a ping/pong round trip).

        Returns ``False`` if no ``pong`` came back within ``timeout`` seconds.
        """
        return await self._connection.flush(timeout)

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
        text = encode_invoke(function_path, data, invocation_id, timeout, trigger)
        if not self.connected:
            self.calls.check_room()
        fut = self.calls.add(invocation_id)
        self._connection.send_text(text, queue=True, invocation_id=invocation_id)
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
        text = encode_invoke(function_path, data, None, None, trigger)
        if not self.connected:
            self.calls.check_room()
        self._connection.send_text(text, queue=True)

    def forward_log(self, entry: dict[str, Any]) -> None:
        """The :class:`~iii.LogSink` method: send a record to the engine's ``logger.log``.

        Fire-and-forget and never raises; dropped when ``forward_logs`` is off, before the
        first :meth:`connect`, after :meth:`disconnect`, and while disconnected once
        ``min(1000, max_queued_messages / 2)`` frames are queued (logs never fill the queue).
        """
        if not self.forward_logs or not self._connection.started or self._closed:
            return
        if not self.connected and self.calls.queued >= min(
            MAX_QUEUED_LOGS, self.calls.max_queued // 2
        ):
            return
        try:
            try:
                text = encode_invoke("logger.log", entry, None, None, None)
            except TypeError:  # data that is not JSON: send its repr
                plain = json.loads(json.dumps(entry, default=repr))
                text = encode_invoke("logger.log", plain, None, None, None)
            self._connection.send_text(text, queue=True)
        except Exception:  # logging is best effort
            return

    def _check_open(self) -> None:
        if self._closed:
            raise BridgeClosedError("the bridge was disconnected; call connect() again first")

    def _send(self, msg: Message) -> None:
        self._connection.send(msg)


# Re-exported for type checkers that look here for the registration handle types.
__all__ = ["DEFAULT_URL", "Bridge", "FunctionRef", "Handler", "TriggerRef", "TriggerTypeRef"]


def _install_signals(bridge: Bridge, grace: float) -> list[signal.Signals]:
    """SIGTERM/SIGINT start ``bridge.shutdown()`` (main thread only); the handlers removed."""
    if threading.current_thread() is not threading.main_thread():
        return []
    loop = asyncio.get_running_loop()
    sigs = [signal.SIGTERM, signal.SIGINT]
    tasks: set[asyncio.Task[None]] = set()

    def on_signal() -> None:
        for sig in sigs:
            loop.remove_signal_handler(sig)
        task = loop.create_task(bridge.shutdown(grace))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    try:
        for sig in sigs:
            loop.add_signal_handler(sig, on_signal)
    except (NotImplementedError, RuntimeError):  # no signal support on this loop
        return []
    return sigs
