"""Step configuration: :class:`StepConfig` and its triggers (api, event, cron, state, stream).

The trigger types and their config names are Node Motia's (``type: "state"`` with ``groupId``;
``type: "stream"`` with ``streamName``, ``groupId``, ``itemId``). Python spells the fields in
snake_case and also accepts Node's camelCase names (``StreamTrigger(streamName="todos")``).

Accepted from the original Motia for Python as well: ``EventTrigger(subscribes=[...])`` (the
first topic is used, as the original did), ``conditions=[...]`` beside ``condition=``, and
conditions taking a third ``trigger`` parameter (see :mod:`motia.invoke`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator
from typing_extensions import TypeVar

from .schemas import Schema, check_schema

Condition = Callable[..., Any]
"""``condition(input, ctx) -> bool`` or ``condition(input, ctx, trigger) -> bool``, sync or
async; see :mod:`motia.invoke` for ``input`` and ``trigger``."""

Middleware = Callable[..., Any]
"""``async def middleware(req, ctx, next_handler) -> ApiResponse``."""

TriggerCondition = Condition
"""The original's name for :data:`Condition`."""

ApiMiddleware = Middleware
"""The original's name for :data:`Middleware`."""

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
TEmit = TypeVar("TEmit", default=Any)


class _Trigger(BaseModel):
    model_config = ConfigDict(
        extra="forbid", arbitrary_types_allowed=True, frozen=True, populate_by_name=True
    )

    condition: Condition | list[Condition] | None = None
    """Runs before the handler; a false result skips it (HTTP answers 422). A list runs in
    order, and the first false result stops the call (the later ones do not run)."""

    @model_validator(mode="before")
    @classmethod
    def _conditions_alias(cls, data: Any) -> Any:
        # The original Motia spelled it ``conditions=[...]``; both are accepted, not together.
        if isinstance(data, dict) and "conditions" in data:
            data = dict(data)
            conditions = data.pop("conditions")
            if data.get("condition") is not None and conditions is not None:
                raise ValueError("give condition or conditions, not both")
            data["condition"] = conditions
        return data

    @property
    def conditions(self) -> list[Condition]:
        """The trigger's conditions as a list (none, one, or several in order)."""
        if self.condition is None:
            return []
        if isinstance(self.condition, list):
            return list(self.condition)
        return [self.condition]


class ApiTrigger(_Trigger):
    """An HTTP route: ``ApiTrigger(path="/users/:id", method="GET", middleware=[...])``.

    ``body_schema`` / ``query_schema`` (a Pydantic model, or any type Pydantic can validate)
    check ``req.body`` / ``req.query_params`` before the middleware and handler run: a mismatch
    answers 400 ``{"error": "validation_failed", "in": "body" | "query_params", "issues": [...]}``
    (Node Motia's body), a match replaces the field with the validated value (a model
    instance). ``response_schema={200: Model, 404: Error}`` documents the answers (OpenAPI).
    """

    type: Literal["api"] = "api"
    path: Annotated[str, Field(pattern=r"^/")]
    method: str = "GET"
    middleware: list[Middleware] = Field(default_factory=list)
    description: str | None = None
    body_schema: Any = Field(
        default=None, validation_alias=AliasChoices("body_schema", "bodySchema")
    )
    query_schema: Any = Field(
        default=None, validation_alias=AliasChoices("query_schema", "querySchema")
    )
    response_schema: dict[int, Any] | None = Field(
        default=None, validation_alias=AliasChoices("response_schema", "responseSchema")
    )

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        upper = value.upper()
        if upper not in HTTP_METHODS:
            raise ValueError(f"method must be one of {', '.join(HTTP_METHODS)}")
        return upper

    @field_validator("middleware", mode="before")
    @classmethod
    def _middleware(cls, value: Any) -> Any:
        if value is None:
            return []
        for item in value if isinstance(value, list) else []:
            if not callable(item):
                raise ValueError(f"middleware entries must be callable, got {type(item).__name__}")
        return value

    @field_validator("body_schema", "query_schema")
    @classmethod
    def _schema(cls, value: Any) -> Any:
        return None if value is None else check_schema(value)

    @field_validator("response_schema")
    @classmethod
    def _responses(cls, value: dict[int, Any] | None) -> dict[int, Any] | None:
        if value is None:
            return None
        for status, schema in value.items():
            if not 100 <= status <= 599:
                raise ValueError(f"response_schema status must be 100-599, got {status}")
            check_schema(schema)
        return value

    @property
    def body(self) -> Schema | None:
        """The body schema, ready to validate (``None`` when none was declared)."""
        return Schema.of(self.body_schema)

    @property
    def query(self) -> Schema | None:
        """The query schema, ready to validate (``None`` when none was declared)."""
        return Schema.of(self.query_schema)


class EventTrigger(_Trigger):
    """Runs on every event emitted to ``topic``; the handler receives the event data.

    ``EventTrigger(subscribes=["a"])`` (the original's form) means ``topic="a"``; only the
    first topic is used, as in the original.
    """

    type: Literal["event"] = "event"
    topic: Annotated[str, Field(min_length=1)]
    # Retry policy of durable events (docs/events.md); the engine validates the values.
    max_attempts: int | None = None
    backoff: dict[str, Any] | None = None
    timeout_ms: int | None = None
    concurrency: int | None = None
    fifo: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _subscribes(cls, data: Any) -> Any:
        if isinstance(data, dict) and "subscribes" in data:
            data = dict(data)
            topics = data.pop("subscribes")
            if not isinstance(topics, list) or not topics:
                raise ValueError("subscribes must be a non-empty list of topics")
            if data.get("topic") is None:
                data["topic"] = topics[0]
        return data


class CronTrigger(_Trigger):
    """Runs on a schedule (5-field crontab, 6 with seconds first, 7 with a year last)."""

    type: Literal["cron"] = "cron"
    expression: Annotated[str, Field(min_length=1)]
    timezone: str | None = None


class StateTrigger(_Trigger):
    """Runs on every change of a state item (``group_id``: only that group; all when left out).

    The handler receives the engine's state payload ``{event_type, group_id, item_id,
    old_value, new_value}``.
    """

    type: Literal["state"] = "state"
    group_id: str | None = Field(
        default=None, validation_alias=AliasChoices("group_id", "groupId"), min_length=1
    )


class StreamTrigger(_Trigger):
    """Runs on every change of a stream's items (narrowed by ``group_id`` / ``item_id``).

    The handler receives the engine's stream payload ``{stream_name, group_id, item_id,
    event: {type, data}}``.
    """

    type: Literal["stream"] = "stream"
    stream_name: str = Field(
        validation_alias=AliasChoices("stream_name", "streamName"), min_length=1
    )
    group_id: str | None = Field(
        default=None, validation_alias=AliasChoices("group_id", "groupId"), min_length=1
    )
    item_id: str | None = Field(
        default=None, validation_alias=AliasChoices("item_id", "itemId"), min_length=1
    )


AnyTrigger = ApiTrigger | EventTrigger | CronTrigger | StateTrigger | StreamTrigger
Trigger = Annotated[AnyTrigger, Field(discriminator="type")]


class StepConfig(BaseModel, Generic[TEmit]):
    """A step: a ``name`` (used in function paths) and one or more triggers.

    Subscriptable as the original annotated it (``StepConfig[Any]``); the parameter is only
    for type checkers.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: Annotated[str, Field(min_length=1, pattern=r"^[^:\s]+$")]
    triggers: Annotated[list[Trigger], Field(min_length=1)]
    description: str | None = None
    emits: list[str] = Field(default_factory=list)
    flows: list[str] = Field(default_factory=list)
    virtual_emits: list[Any] = Field(
        default_factory=list, validation_alias=AliasChoices("virtual_emits", "virtualEmits")
    )
    virtual_subscribes: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("virtual_subscribes", "virtualSubscribes"),
    )


def trigger_config(trigger: AnyTrigger) -> dict[str, Any]:
    """The engine's ``registertrigger`` config for a trigger."""
    if isinstance(trigger, ApiTrigger):
        config: dict[str, Any] = {"api_path": trigger.path, "http_method": trigger.method}
        if trigger.description:
            config["description"] = trigger.description
        return config
    if isinstance(trigger, EventTrigger):
        fields = ("max_attempts", "backoff", "timeout_ms", "concurrency", "fifo")
        extra = {k: getattr(trigger, k) for k in fields if getattr(trigger, k) is not None}
        return {"topic": trigger.topic, **extra}
    if isinstance(trigger, CronTrigger):
        config = {"expression": trigger.expression}
        if trigger.timezone:
            config["timezone"] = trigger.timezone
        return config
    if isinstance(trigger, StateTrigger):
        return {} if trigger.group_id is None else {"group_id": trigger.group_id}
    config = {"stream_name": trigger.stream_name}
    if trigger.group_id is not None:
        config["group_id"] = trigger.group_id
    if trigger.item_id is not None:
        config["item_id"] = trigger.item_id
    return config
