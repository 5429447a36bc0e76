"""What a worker offers the engine: functions, triggers, conditions, trigger types, services.

:class:`Registrations` is a part of a :class:`~iii.Bridge` (``bridge.registrations``), not a
base class: it validates arguments, records each registration in its :class:`Registry` (kept
for the replay after every reconnect) and hands the frame to the ``send`` callable it was
built with, which sends it when the socket is open and drops it otherwise (the replay sends it
later). It also answers the engine's questions about this worker's trigger types. The Bridge
exposes every method here under the same name.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from pydantic import ValidationError

from .errors import ErrorCode
from .messages import (
    Message,
    RegisterCondition,
    RegisterFunction,
    RegisterService,
    RegisterTrigger,
    RegisterTriggerType,
    TriggerRegistrationResult,
    UnregisterCondition,
    UnregisterFunction,
    UnregisterTrigger,
    UnregisterTriggerType,
)
from .refs import ConditionRef, FunctionRef, TriggerRef, TriggerTypeRef
from .registry import Handler, Registry, TriggerCallback, TriggerTypeHandlers
from .validate import check_callable, check_dict, check_str

H = TypeVar("H", bound=Callable[..., Any])
log = logging.getLogger("iii")


class Registrations:
    """Registration methods; sent at once when connected, replayed after every reconnect.

    ``send(frame)`` delivers a registration frame now if it can (and never queues it).
    """

    def __init__(self, send: Callable[[Message], None]) -> None:
        self.registry = Registry()
        self._send = send

    def replay(self) -> list[Message]:
        """Every registration frame, in the replay order (see :meth:`Registry.replay`)."""
        return self.registry.replay()

    def handler(self, function_path: str) -> Handler | None:
        """The handler registered for ``function_path``, if any."""
        entry = self.registry.functions.get(function_path)
        return entry[1] if entry else None

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
        *,
        description: str | None = None,
        request_format: Any = None,
        response_format: Any = None,
        metadata: dict[str, Any] | None = None,
    ) -> FunctionRef | Callable[[H], H]:
        """Register a function the engine may call.

        Forms: ``register_function(function_path=..., handler=..., description=...)``,
        ``register_function("path", handler)``, ``register_function(RegisterFunction(...),
        handler)``, and the decorator ``@bridge.register_function("path")``. A handler takes
        the call's ``data`` and returns a JSON value; it may be sync (run in a thread) or async.
        Registering a path again replaces its handler.
        """
        if isinstance(function_path, RegisterFunction):
            msg = function_path
        elif isinstance(function_path, dict):
            msg = self._model(RegisterFunction, function_path, "register_function")
        else:
            check_str("function_path", function_path)
            check_str("description", description, optional=True)
            if metadata is not None:
                check_dict("metadata", metadata)
            msg = RegisterFunction(
                function_path=function_path,
                description=description,
                request_format=request_format,
                response_format=response_format,
                metadata=metadata,
            )
        if handler is None:

            def decorator(fn: H) -> H:
                self.register_function(msg, fn)
                return fn

            return decorator
        check_callable("handler", handler)
        self.registry.functions[msg.function_path] = (msg, handler)
        self._send(msg)
        return FunctionRef(msg.function_path, lambda: self.unregister_function(msg.function_path))

    def unregister_function(self, function_path: str) -> None:
        """Remove a function registered by this worker."""
        check_str("function_path", function_path)
        if self.registry.functions.pop(function_path, None) is not None:
            self._send(UnregisterFunction(function_path=function_path))

    def register_trigger(
        self,
        trigger_type: str,
        function_path: str,
        config: dict[str, Any],
        *,
        id: str | None = None,
    ) -> TriggerRef:
        """Bind a trigger of ``trigger_type`` with ``config`` to ``function_path``.

        ``id`` defaults to a fresh unique id. Returns a handle with ``unregister()``.
        """
        check_str("trigger_type", trigger_type)
        check_str("function_path", function_path)
        check_dict("config", config)
        check_str("id", id, optional=True)
        msg = RegisterTrigger(
            id=id or uuid.uuid4().hex,
            trigger_type=trigger_type,
            function_path=function_path,
            config=config,
        )
        self.registry.triggers[msg.id] = msg
        self._send(msg)
        return TriggerRef(
            msg.id, trigger_type, function_path, config, lambda: self.unregister_trigger(msg.id)
        )

    def unregister_trigger(self, id: str) -> None:
        """Remove a trigger registered by this worker."""
        check_str("id", id)
        msg = self.registry.triggers.pop(id, None)
        if msg is not None:
            self._send(UnregisterTrigger(id=id, trigger_type=msg.trigger_type))

    def register_condition(self, function_path: str, condition_function_path: str) -> ConditionRef:
        """Run ``condition_function_path`` before ``function_path`` when a trigger fires it.

        The condition function is registered like any other function; a JSON ``false``
        result stops the call. Binding the same pair again does nothing (the engine keeps one
        binding per pair). Returns a handle whose ``unregister()`` removes the binding.
        """
        check_str("function_path", function_path)
        check_str("condition_function_path", condition_function_path)
        msg = RegisterCondition(
            function_path=function_path, condition_function_path=condition_function_path
        )
        if self.registry.add_condition(msg):
            self._send(msg)
        return ConditionRef(
            function_path,
            condition_function_path,
            lambda: self.unregister_condition(function_path, condition_function_path),
        )

    def unregister_condition(self, function_path: str, condition_function_path: str) -> None:
        """Remove a condition binding: ``unregistercondition`` at once when connected, and no
        longer replayed after a reconnect. The condition function itself stays registered."""
        check_str("function_path", function_path)
        check_str("condition_function_path", condition_function_path)
        if self.registry.remove_condition(function_path, condition_function_path):
            self._send(
                UnregisterCondition(
                    function_path=function_path, condition_function_path=condition_function_path
                )
            )

    def register_trigger_type(
        self,
        id: str,
        description: str | None = None,
        *,
        on_register: TriggerCallback | None = None,
        on_unregister: Callable[[str], Awaitable[None] | None] | None = None,
    ) -> TriggerTypeRef:
        """Own the trigger type ``id``: triggers of it are forwarded to this worker.

        ``on_register(RegisterTrigger)`` is called for each such trigger (raise to refuse it;
        the engine then reports ``trigger_rejected``), ``on_unregister(trigger_id)`` on removal.
        Fire a trigger with ``invoke_function(path, data, trigger={"type": id, "id": ...})``.
        """
        check_str("id", id)
        check_str("description", description, optional=True)
        if on_register is not None:
            check_callable("on_register", on_register)
        if on_unregister is not None:
            check_callable("on_unregister", on_unregister)
        msg = RegisterTriggerType(id=id, description=description)
        self.registry.trigger_types[id] = (msg, TriggerTypeHandlers(on_register, on_unregister))
        self._send(msg)
        return TriggerTypeRef(id, lambda: self.unregister_trigger_type(id))

    def unregister_trigger_type(self, id: str) -> None:
        """Give up a trigger type this worker owns."""
        check_str("id", id)
        if self.registry.trigger_types.pop(id, None) is not None:
            self._send(UnregisterTriggerType(id=id))

    def register_service(
        self,
        id: str,
        name: str | None = None,
        *,
        description: str | None = None,
        parent_service_id: str | None = None,
    ) -> None:
        """Describe a service that groups functions (informational)."""
        check_str("id", id)
        check_str("name", name, optional=True)
        msg = RegisterService(
            id=id, name=name, description=description, parent_service_id=parent_service_id
        )
        self.registry.services[id] = msg
        self._send(msg)

    async def answer_trigger(self, msg: RegisterTrigger) -> TriggerRegistrationResult:
        """Ask the owning trigger type's ``on_register`` about a forwarded trigger.

        The answer carries ``trigger_rejected`` (with the reason) when this worker does not own
        the type or ``on_register`` raised.
        """
        entry = self.registry.trigger_types.get(msg.trigger_type)
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
            error = {
                "code": ErrorCode.TRIGGER_REJECTED.value,
                "message": str(exc) or type(exc).__name__,
            }
        return TriggerRegistrationResult.model_validate(
            {
                "id": msg.id,
                "trigger_type": msg.trigger_type,
                "function_path": msg.function_path,
                "error": error,
            }
        )

    async def forward_unregister(self, msg: UnregisterTrigger) -> None:
        """Tell the owning trigger type's ``on_unregister`` that a trigger went away."""
        for type_msg, handlers in self.registry.trigger_types.values():
            if handlers.on_unregister is None or msg.trigger_type not in (None, type_msg.id):
                continue
            try:
                result = handlers.on_unregister(msg.id)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("on_unregister for trigger %s failed", msg.id)

    @staticmethod
    def _model(cls: type[RegisterFunction], data: dict[str, Any], where: str) -> RegisterFunction:
        try:
            return cls.model_validate({**data, "type": "registerfunction"})
        except ValidationError as exc:
            raise TypeError(
                f"{where}: {exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}"
            ) from None
