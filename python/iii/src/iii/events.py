"""Durable events from a worker: ``emit`` with its options, and the dead-letter and stats
built-ins (``events.deadLetters.*``, ``events.stats``) with their types.

``events = Events(bridge)``; ``await events.emit("orders", data, idempotency_key="o-1")``;
``page = await events.list_dead_letters(topic="orders")``. The guarantees are in
docs/events.md.
"""

from __future__ import annotations

from typing import Any, NotRequired, Protocol, TypedDict, cast


class Invoker(Protocol):
    """What :class:`Events` needs of a bridge: ``invoke_function`` (an :class:`iii.Bridge`)."""

    async def invoke_function(self, function_path: str, data: Any = None) -> Any: ...


class EmitResult(TypedDict):
    """What the engine answers once the event is stored."""

    event_id: str
    duplicate: bool


class DeliveryError(TypedDict):
    code: str
    message: str


class DeadLetter(TypedDict):
    """A delivery that failed for good: its event, its last error and its attempts."""

    id: str
    event_id: str
    topic: str
    function_path: str
    data: Any
    error: DeliveryError
    attempts: int
    first_attempt_ms: int | None
    failed_at_ms: int
    trace_id: str | None
    message_group_id: str | None


class DeadLetterPage(TypedDict):
    items: list[DeadLetter]
    next_cursor: NotRequired[str]


class SubscriptionStats(TypedDict):
    topic: str
    function_path: str
    pending: int
    in_flight: int
    delayed: int
    dead: int


def emit_input(
    topic: str,
    data: Any = None,
    *,
    idempotency_key: str | None = None,
    message_group_id: str | None = None,
    delay_ms: int | None = None,
) -> dict[str, Any]:
    """The input of the ``emit`` built-in for these options (unset options are left out)."""
    body: dict[str, Any] = {"topic": topic, "data": data}
    if idempotency_key is not None:
        body["idempotency_key"] = idempotency_key
    if message_group_id is not None:
        body["message_group_id"] = message_group_id
    if delay_ms is not None:
        body["delay_ms"] = delay_ms
    return body


def _selector(id: str | None, topic: str | None, function_path: str | None) -> dict[str, Any]:
    if id is not None:
        return {"id": id}
    body: dict[str, Any] = {}
    if topic is not None:
        body["topic"] = topic
    if function_path is not None:
        body["function_path"] = function_path
    return body


class Events:
    """Durable events through one bridge; every method is one call to an engine built-in."""

    def __init__(self, bridge: Invoker) -> None:
        self._bridge = bridge

    async def emit(
        self,
        topic: str,
        data: Any = None,
        *,
        idempotency_key: str | None = None,
        message_group_id: str | None = None,
        delay_ms: int | None = None,
    ) -> EmitResult:
        """Store an event for every subscriber; returns once it is stored."""
        body = emit_input(
            topic,
            data,
            idempotency_key=idempotency_key,
            message_group_id=message_group_id,
            delay_ms=delay_ms,
        )
        return cast(EmitResult, await self._bridge.invoke_function("emit", body))

    async def list_dead_letters(
        self,
        *,
        topic: str | None = None,
        function_path: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> DeadLetterPage:
        """Dead letters, oldest first; pass ``next_cursor`` back as ``cursor`` for more."""
        body = _selector(None, topic, function_path)
        if limit is not None:
            body["limit"] = limit
        if cursor is not None:
            body["cursor"] = cursor
        page = await self._bridge.invoke_function("events.deadLetters.list", body)
        return cast(DeadLetterPage, page)

    async def redrive(
        self, *, id: str | None = None, topic: str | None = None, function_path: str | None = None
    ) -> int:
        """Deliver the selected dead letters again (all when nothing is given); returns how many."""
        body = _selector(id, topic, function_path)
        result = await self._bridge.invoke_function("events.deadLetters.redrive", body)
        return int(result["redriven"])

    async def discard(
        self, *, id: str | None = None, topic: str | None = None, function_path: str | None = None
    ) -> int:
        """Delete the selected dead letters (all when nothing is given); returns how many."""
        body = _selector(id, topic, function_path)
        result = await self._bridge.invoke_function("events.deadLetters.discard", body)
        return int(result["discarded"])

    async def stats(self) -> list[SubscriptionStats]:
        """Pending, in-flight, delayed and dead deliveries per subscription."""
        result = await self._bridge.invoke_function("events.stats", {})
        return cast(list[SubscriptionStats], result["subscriptions"])
