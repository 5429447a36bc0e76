"""Calls this worker makes: their frames, the answers it waits for, and the frames kept while
the socket is closed.

:class:`Calls` is loop-bound state with no I/O: the bridge records a call *before* sending it
(so a fast answer always finds its waiter), resolves it from the ``invocationresult`` and fails
what is left when the connection drops or the bridge closes. Frames that could not be sent
while disconnected wait in a bounded queue (``max_queued``, as the Node SDK's
``maxQueuedMessages``) and go out right after the registration replay of the next connection;
a full queue raises :class:`~iii.errors.QueueFullError` instead of growing without bound.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from pydantic import ValidationError

from .errors import QueueFullError, error_from_wire
from .messages import InvocationResult, InvokeFunction, TriggerInfo, encode_frame
from .tracing import current_trace, new_trace


def encode_invoke(
    function_path: str,
    data: Any,
    invocation_id: str | None,
    timeout: float | None,
    trigger: dict[str, Any] | TriggerInfo | None,
) -> str:
    """The ``invokefunction`` frame of a call, in the current trace (or a new one).

    ``invocation_id`` ``None`` is a fire-and-forget call; ``timeout`` (seconds) becomes
    ``timeout_ms``. Data that is not JSON raises ``TypeError`` naming the function.
    """
    trace = current_trace() or new_trace()
    try:
        msg = InvokeFunction(
            invocation_id=invocation_id,
            function_path=function_path,
            data=data,
            trigger=TriggerInfo.model_validate(trigger) if isinstance(trigger, dict) else trigger,
            traceparent=trace.traceparent,
            baggage=trace.baggage,
            timeout_ms=max(1, round(timeout * 1000)) if timeout is not None else None,
        )
        return encode_frame(msg)
    except (ValidationError, ValueError) as exc:
        raise TypeError(f"cannot send {function_path}: {exc}") from None


class Calls:
    """Pending invocations (by id) and the send queue of a disconnected bridge."""

    def __init__(self, max_queued: int) -> None:
        self.max_queued = max_queued
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._queued: deque[tuple[str, str | None]] = deque()

    @property
    def queued(self) -> int:
        """How many frames wait for the next connection."""
        return len(self._queued)

    def check_room(self) -> None:
        """Raise :class:`QueueFullError` when no frame can be queued any more."""
        if len(self._queued) >= self.max_queued:
            raise QueueFullError(
                f"{len(self._queued)} frames are already waiting for the connection "
                f"(max_queued_messages={self.max_queued})"
            )

    def queue(self, text: str, invocation_id: str | None = None) -> None:
        """Keep ``text`` for the next connection (raises :class:`QueueFullError` when full)."""
        self.check_room()
        self._queued.append((text, invocation_id))

    def drain(self) -> list[str]:
        """Take every queued frame, dropping calls whose caller stopped waiting."""
        frames = [t for t, i in self._queued if i is None or i in self._pending]
        self._queued.clear()
        return frames

    def clear_queue(self) -> None:
        """Drop every queued frame."""
        self._queued.clear()

    def add(self, invocation_id: str) -> asyncio.Future[Any]:
        """Record a call about to be sent; its future gets the result or the error."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[invocation_id] = fut
        return fut

    def forget(self, invocation_id: str) -> None:
        """Stop waiting for a call (it timed out or was answered)."""
        self._pending.pop(invocation_id, None)

    def resolve(self, msg: InvocationResult) -> None:
        """Settle the call ``msg`` answers: its ``error`` raises, else ``result`` (or None)."""
        fut = self._pending.get(msg.invocation_id)
        if fut is None or fut.done():
            return  # late or unknown: the caller stopped waiting
        if msg.error is not None:
            fut.set_exception(error_from_wire(msg.error.model_dump(exclude_none=True)))
        else:
            fut.set_result(msg.result)

    def fail_all(self, exc: Exception) -> None:
        """Fail every pending call with ``exc``."""
        pending, self._pending = self._pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(exc)
