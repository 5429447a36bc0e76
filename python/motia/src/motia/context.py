"""The context every step handler, condition and middleware receives."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar, cast

from iii import Bridge, Logger
from iii.events import emit_input

from ._checks import check_id
from .state import StateManager
from .stream import Streams

TData = TypeVar("TData")
TEmit = TypeVar("TEmit")


@dataclass(frozen=True, slots=True)
class TriggerMetadata:
    """Which trigger caused the call: ``type`` (api/event/cron/state/stream), ``index``, and
    the trigger's own fields (``path``/``method``, ``topic``, ``expression``, ``stream_name``,
    ``group_id``, ``item_id``)."""

    type: str
    index: int
    id: str | None = None
    path: str | None = None
    method: str | None = None
    topic: str | None = None
    expression: str | None = None
    stream_name: str | None = None
    group_id: str | None = None
    item_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields that are set, as a dict (what a three-parameter condition gets)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True, slots=True)
class TriggerInput(Generic[TData]):
    """The normalized input shared with Node: ``{trigger, request, data}``.

    ``request`` is the :class:`~motia.ApiRequest` for API triggers (``None`` otherwise);
    ``data`` is the event data, the cron/state/stream payload, or the request body. Available
    as ``ctx.input``; subscriptable (``TriggerInput[Order]``) as the original annotated it.
    """

    trigger: TriggerMetadata
    request: Any
    data: TData


class Fields(dict[str, Any]):
    """A ``dict`` whose keys also read as attributes (``payload.group_id``), nested dicts too
    (``payload.event.type``); a missing key is an ``AttributeError`` naming it."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(f"the payload has no field {name!r}") from None
        return Fields(value) if type(value) is dict else value


class TriggerData(Fields):
    """A dict payload (event, cron, state, stream) that also reads as the original's
    ``TriggerInput`` and its state/stream input models: ``input["amount"]`` and
    ``input.get(...)`` as before, plus ``input.data`` (the payload), ``input.trigger``,
    ``input.request`` (``None``) and the payload's fields as attributes (``input.group_id``,
    ``input.event.type``).

    It is a plain ``dict`` for everything else (equality, JSON, ``ctx.emit``).
    """

    __slots__ = ("trigger",)

    def __init__(self, payload: dict[str, Any], trigger: TriggerMetadata) -> None:
        super().__init__(payload)
        self.trigger = trigger

    @property
    def data(self) -> dict[str, Any]:
        """The payload (the original ``TriggerInput.data``)."""
        return self

    @property
    def request(self) -> None:
        """Always ``None``: only API triggers have a request."""
        return None


StateTriggerInput = TriggerData
"""What a state trigger's handler gets (the original's name): ``input.group_id``, ..."""

StreamTriggerInput = TriggerData
"""What a stream trigger's handler gets (the original's name): ``input.event.type``, ..."""


class FlowContext(Generic[TEmit]):
    """What a handler gets besides its input; subscriptable (``FlowContext[Any]``).

    ``emit(topic, data)``, ``trigger`` (:class:`TriggerMetadata`), ``state``
    (:class:`~motia.state.StateManager`), ``streams`` (``ctx.streams["todos"]``), ``logger``
    (trace-aware; ``exc_info=True`` works), ``trace_id``, ``input`` (:class:`TriggerInput`),
    ``step`` (the step's name), and the original's helpers ``get_data()``, ``is_api()``,
    ``is_event()``, ``is_cron()``, ``is_state()``, ``is_stream()``.
    Middleware may set more attributes (``ctx.user = user``); they live for this call only.
    """

    def __init__(
        self,
        *,
        bridge: Bridge,
        trigger: TriggerMetadata,
        trace_id: str,
        function_path: str,
        input: TriggerInput[Any] | None = None,
        step: str | None = None,
        emits: list[str] | None = None,
    ) -> None:
        self._bridge = bridge
        self.step = step
        self.trigger = trigger
        self.trace_id = trace_id
        self.function_path = function_path
        self.input = input
        self.emits = emits
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
        A topic missing from the step's declared ``emits`` is still sent, with a warning (as in
        Node Motia)."""
        if isinstance(topic, dict):
            topic, data = topic.get("topic"), topic.get("data")  # type: ignore[assignment]
        check_id("topic", topic)
        if self.emits and topic not in self.emits:
            self.logger.warning(f'step {self.step} emits "{topic}", which is not in its emits')
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

    def get_data(self) -> Any:
        """The call's data: the request body for API triggers, the payload otherwise."""
        return None if self.input is None else self.input.data

    def is_api(self) -> bool:
        """True when an API trigger fired."""
        return self.trigger.type == "api"

    def is_event(self) -> bool:
        """True when an event trigger fired."""
        return self.trigger.type == "event"

    def is_cron(self) -> bool:
        """True when a cron trigger fired."""
        return self.trigger.type == "cron"

    def is_state(self) -> bool:
        """True when a state trigger fired."""
        return self.trigger.type == "state"

    def is_stream(self) -> bool:
        """True when a stream trigger fired."""
        return self.trigger.type == "stream"

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes nobody set: say which, and how they get there.
        raise AttributeError(
            f"FlowContext has no attribute {name!r} (middleware can set it: ctx.{name} = ...)"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
