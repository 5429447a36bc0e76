"""The context every step handler, condition and middleware receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from iii import Bridge, Logger
from iii.events import emit_input

from ._checks import check_id
from .state import StateManager
from .stream import Streams


@dataclass(frozen=True, slots=True)
class TriggerMetadata:
    """Which trigger caused the call: ``type`` (api/event/cron), ``index``, type-specific fields."""

    type: str
    index: int
    id: str | None = None
    path: str | None = None
    method: str | None = None
    topic: str | None = None
    expression: str | None = None


@dataclass(frozen=True, slots=True)
class TriggerInput:
    """The normalized input shared with Node: ``{trigger, request, data}``.

    ``request`` is the :class:`~motia.ApiRequest` for API triggers (``None`` otherwise);
    ``data`` is the event data, the cron payload, or the request body. Available as
    ``ctx.input``.
    """

    trigger: TriggerMetadata
    request: Any
    data: Any


class FlowContext:
    """What a handler gets besides its input.

    ``emit(topic, data)``, ``trigger`` (:class:`TriggerMetadata`), ``state``
    (:class:`~motia.state.StateManager`), ``streams`` (``ctx.streams["todos"]``), ``logger``
    (trace-aware; ``exc_info=True`` works), ``trace_id``, ``input`` (:class:`TriggerInput`),
    ``step`` (the step's name).
    Middleware may set more attributes (``ctx.user = user``); they live for this call only.
    """

    def __init__(
        self,
        *,
        bridge: Bridge,
        trigger: TriggerMetadata,
        trace_id: str,
        function_path: str,
        input: TriggerInput | None = None,
        step: str | None = None,
    ) -> None:
        self._bridge = bridge
        self.step = step
        self.trigger = trigger
        self.trace_id = trace_id
        self.function_path = function_path
        self.input = input
        self.state = StateManager(bridge)
        self.streams = Streams(bridge)
        self.logger = Logger("motia", function_path=function_path)

    async def emit(
        self,
        topic: str | dict[str, Any],
        data: Any = None,
        *,
        idempotency_key: str | None = None,
        message_group_id: str | None = None,
        delay_ms: int | None = None,
    ) -> Any:
        """Publish ``data`` to ``topic`` (also accepts ``emit({"topic": ..., "data": ...})``).

        Returns the engine's ``{event_id, duplicate}`` once the event is stored (docs/events.md).
        """
        if isinstance(topic, dict):
            topic, data = topic.get("topic"), topic.get("data")  # type: ignore[assignment]
        check_id("topic", topic)
        body = emit_input(
            cast(str, topic),
            data,
            idempotency_key=idempotency_key,
            message_group_id=message_group_id,
            delay_ms=delay_ms,
        )
        return await self._bridge.invoke_function("emit", body)

    async def call(self, function_path: str, data: Any = None, **kwargs: Any) -> Any:
        """Invoke any function in the system (continues this call's trace)."""
        return await self._bridge.invoke_function(function_path, data, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes nobody set: say which, and how they get there.
        raise AttributeError(
            f"FlowContext has no attribute {name!r} (middleware can set it: ctx.{name} = ...)"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
