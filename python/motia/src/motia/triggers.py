"""Step configuration: :class:`StepConfig` and its triggers (API, event, cron)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Condition = Callable[[Any, Any], Any]
"""``condition(input, ctx) -> bool`` (sync or async); see :mod:`motia.step` for ``input``."""

Middleware = Callable[..., Any]
"""``async def middleware(req, ctx, next_handler) -> ApiResponse``."""

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class _Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)

    condition: Condition | list[Condition] | None = None
    """Runs before the handler; a false result skips it (HTTP answers 422). A list runs in
    order, and the first false result stops the call (the later ones do not run)."""

    @property
    def conditions(self) -> list[Condition]:
        """The trigger's conditions as a list (none, one, or several in order)."""
        if self.condition is None:
            return []
        if isinstance(self.condition, list):
            return list(self.condition)
        return [self.condition]


class ApiTrigger(_Trigger):
    """An HTTP route: ``ApiTrigger(path="/users/:id", method="GET", middleware=[...])``."""

    type: Literal["api"] = "api"
    path: Annotated[str, Field(pattern=r"^/")]
    method: str = "GET"
    middleware: list[Middleware] = Field(default_factory=list)
    description: str | None = None

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        upper = value.upper()
        if upper not in HTTP_METHODS:
            raise ValueError(f"method must be one of {', '.join(HTTP_METHODS)}")
        return upper

    @field_validator("middleware")
    @classmethod
    def _middleware(cls, value: list[Middleware]) -> list[Middleware]:
        for item in value:
            if not callable(item):
                raise ValueError(f"middleware entries must be callable, got {type(item).__name__}")
        return value


class EventTrigger(_Trigger):
    """Runs on every event emitted to ``topic``; the handler receives the event data."""

    type: Literal["event"] = "event"
    topic: Annotated[str, Field(min_length=1)]
    # Retry policy of durable events (docs/events.md); the engine validates the values.
    max_attempts: int | None = None
    backoff: dict[str, Any] | None = None
    timeout_ms: int | None = None
    concurrency: int | None = None
    fifo: bool | None = None


class CronTrigger(_Trigger):
    """Runs on a schedule (5-field crontab, or 6 with seconds first)."""

    type: Literal["cron"] = "cron"
    expression: Annotated[str, Field(min_length=1)]
    timezone: str | None = None


Trigger = Annotated[ApiTrigger | EventTrigger | CronTrigger, Field(discriminator="type")]


class StepConfig(BaseModel):
    """A step: a ``name`` (used in function paths) and one or more triggers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, pattern=r"^[^:\s]+$")]
    triggers: Annotated[list[Trigger], Field(min_length=1)]
    description: str | None = None
    emits: list[str] = Field(default_factory=list)
    flows: list[str] = Field(default_factory=list)


def trigger_config(trigger: ApiTrigger | EventTrigger | CronTrigger) -> dict[str, Any]:
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
    config = {"expression": trigger.expression}
    if trigger.timezone:
        config["timezone"] = trigger.timezone
    return config
