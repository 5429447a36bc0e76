"""Trace context carried through calls (W3C ``traceparent``), held in a context variable.

A call that arrives with ``traceparent`` continues that trace; one without starts a new trace.
Calls made while handling it (``invoke_function``, ``emit``) carry the trace on.
"""

from __future__ import annotations

import contextvars
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True, slots=True)
class TraceContext:
    """One span of a trace: ``trace_id`` (32 hex), ``span_id`` (16 hex), optional baggage."""

    trace_id: str
    span_id: str
    baggage: str | None = None

    @property
    def traceparent(self) -> str:
        """The W3C ``traceparent`` header value for this span."""
        return f"00-{self.trace_id}-{self.span_id}-01"

    def child(self) -> TraceContext:
        """A new span in the same trace."""
        return TraceContext(self.trace_id, secrets.token_hex(8), self.baggage)


def new_trace(baggage: str | None = None) -> TraceContext:
    """Start a new trace."""
    return TraceContext(secrets.token_hex(16), secrets.token_hex(8), baggage)


def parse_traceparent(value: str | None, baggage: str | None = None) -> TraceContext | None:
    """Parse a ``traceparent`` value; ``None`` when absent or malformed."""
    if not value:
        return None
    match = _TRACEPARENT.match(value.strip().lower())
    if not match or match.group(2) == "0" * 32:
        return None
    return TraceContext(match.group(2), match.group(3), baggage)


_current: contextvars.ContextVar[TraceContext | None] = contextvars.ContextVar(
    "iii_trace", default=None
)


def current_trace() -> TraceContext | None:
    """The trace context of the running call, if any."""
    return _current.get()


def current_trace_id() -> str | None:
    """The trace id of the running call, if any."""
    ctx = _current.get()
    return ctx.trace_id if ctx else None


@contextmanager
def use_trace(ctx: TraceContext | None) -> Iterator[TraceContext | None]:
    """Make ``ctx`` the current trace context inside the ``with`` block."""
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
