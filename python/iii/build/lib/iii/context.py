"""The context of the call a handler is running: path, id, trigger metadata and trace."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

from .messages import TriggerInfo
from .tracing import TraceContext


@dataclass(frozen=True, slots=True)
class InvocationContext:
    """What the engine said about the running call."""

    function_path: str
    invocation_id: str | None
    trigger: TriggerInfo | None
    trace: TraceContext

    @property
    def trace_id(self) -> str:
        """The call's trace id."""
        return self.trace.trace_id


_current: contextvars.ContextVar[InvocationContext | None] = contextvars.ContextVar(
    "iii_invocation", default=None
)


def current_invocation() -> InvocationContext | None:
    """The running call's context, or ``None`` outside a handler."""
    return _current.get()


def set_invocation(ctx: InvocationContext | None) -> contextvars.Token[InvocationContext | None]:
    """Set the running call's context (the SDK does this before calling a handler)."""
    return _current.set(ctx)


def reset_invocation(token: contextvars.Token[InvocationContext | None]) -> None:
    """Undo :func:`set_invocation`."""
    _current.reset(token)
