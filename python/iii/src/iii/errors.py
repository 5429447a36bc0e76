"""The error catalogue of the iii SDK.

Every error the SDK raises is an :class:`IIIError` carrying a stable ``code``
(``{code, message, details?}`` on the wire). The codes are those of the project's one catalogue,
``protocol/errors.json``, shared with the engine and the Node SDK: :class:`ErrorCode` names each
of them and each has its own :class:`IIIError` subclass, so ``except InvocationStoppedError:``
and ``err.code == ErrorCode.INVOCATION_STOPPED`` both work. :func:`error_from_wire` turns a wire
error into the matching subclass; a code outside the catalogue (an application's own, kept when
a handler raises ``IIIError(message, code="payment_declined")``) gives a plain :class:`IIIError`.

Codes the SDK raises itself (never on the wire): ``bridge_closed`` (the bridge was disconnected
while the operation waited, or before it started), ``queue_full`` (too many frames queued while
the socket is closed), ``connection_failed`` (``connect()`` could not reach the engine in time),
and ``invocation_stopped`` for a call whose connection dropped while it waited.

``ConnectionClosedError`` (code ``connection_closed``) is gone: that situation is now either
``bridge_closed`` or ``invocation_stopped``. The old name still imports, with a
:class:`DeprecationWarning`, as the tuple ``(BridgeClosedError, InvocationStoppedError)`` so that
``except ConnectionClosedError:`` keeps catching both.
"""

from __future__ import annotations

import warnings
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Every code of the catalogue (``protocol/errors.json``)."""

    INVALID_MESSAGE = "invalid_message"
    UNKNOWN_MESSAGE_TYPE = "unknown_message_type"
    FUNCTION_NOT_FOUND = "function_not_found"
    INVOCATION_FAILED = "invocation_failed"
    INVOCATION_STOPPED = "invocation_stopped"
    INVOCATION_TIMEOUT = "invocation_timeout"
    CONDITION_FAILED = "condition_failed"
    INVALID_TRIGGER = "invalid_trigger"
    TRIGGER_CONFLICT = "trigger_conflict"
    TRIGGER_REJECTED = "trigger_rejected"
    TRIGGER_TYPE_CONFLICT = "trigger_type_conflict"
    INVALID_ARGUMENT = "invalid_argument"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    NOT_FOUND = "not_found"
    STORE_UNAVAILABLE = "store_unavailable"
    INTERNAL_ERROR = "internal_error"
    FORBIDDEN = "forbidden"
    TOO_MANY_REQUESTS = "too_many_requests"
    BRIDGE_CLOSED = "bridge_closed"
    QUEUE_FULL = "queue_full"
    CONNECTION_FAILED = "connection_failed"
    NON_RETRYABLE = "non_retryable"


class IIIError(Exception):
    """Base class of every coded iii error; ``code`` may be any string (custom codes too)."""

    code: str = ErrorCode.INTERNAL_ERROR

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.details = details

    def to_wire(self) -> dict[str, Any]:
        """Return the error as the protocol's ``{code, message, details?}`` object."""
        body: dict[str, Any] = {"code": str(self.code), "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={str(self.code)!r}, message={self.message!r})"


class ProtocolError(IIIError):
    """A frame could not be parsed (``invalid_message``)."""

    code = ErrorCode.INVALID_MESSAGE


class UnknownMessageTypeError(ProtocolError):
    """A frame's ``type`` is not in the protocol."""

    code = ErrorCode.UNKNOWN_MESSAGE_TYPE


class FunctionNotFoundError(IIIError):
    """No function with that path is registered."""

    code = ErrorCode.FUNCTION_NOT_FOUND


class InvocationFailedError(IIIError):
    """The handler raised an error without a code."""

    code = ErrorCode.INVOCATION_FAILED


class InvocationStoppedError(IIIError):
    """The worker running the call disconnected, or this bridge's connection dropped."""

    code = ErrorCode.INVOCATION_STOPPED


class InvocationTimeoutError(IIIError):
    """No result arrived within the timeout."""

    code = ErrorCode.INVOCATION_TIMEOUT


class ConditionFailedError(IIIError):
    """A condition returned ``false``."""

    code = ErrorCode.CONDITION_FAILED


class InvalidTriggerError(IIIError):
    """A trigger's config is wrong."""

    code = ErrorCode.INVALID_TRIGGER


class TriggerConflictError(IIIError):
    """A trigger id (or HTTP route) is taken by another worker or function."""

    code = ErrorCode.TRIGGER_CONFLICT


class TriggerRejectedError(IIIError):
    """The worker owning a trigger type refused the trigger."""

    code = ErrorCode.TRIGGER_REJECTED


class TriggerTypeConflictError(IIIError):
    """The trigger type is built in or owned by another worker."""

    code = ErrorCode.TRIGGER_TYPE_CONFLICT


class InvalidArgumentError(IIIError):
    """A built-in function (or an SDK method) got input of the wrong shape."""

    code = ErrorCode.INVALID_ARGUMENT


class PayloadTooLargeError(IIIError):
    """A value or body over its limit."""

    code = ErrorCode.PAYLOAD_TOO_LARGE


class NotFoundError(IIIError):
    """No HTTP route matches (or an application's "not found")."""

    code = ErrorCode.NOT_FOUND


class InternalError(IIIError):
    """Something unexpected: a bug."""

    code = ErrorCode.INTERNAL_ERROR


class ForbiddenError(IIIError):
    """The worker's identity may not do this (register, invoke, a trigger type, share a path)."""

    code = ErrorCode.FORBIDDEN


class TooManyRequestsError(IIIError):
    """A per-connection limit of the engine is reached (calls in flight, registrations)."""

    code = ErrorCode.TOO_MANY_REQUESTS


class BridgeClosedError(IIIError):
    """The bridge was disconnected while the operation waited, or before it started."""

    code = ErrorCode.BRIDGE_CLOSED


class QueueFullError(IIIError):
    """Too many frames are queued while the socket is closed (``max_queued_messages``)."""

    code = ErrorCode.QUEUE_FULL


class StoreUnavailableError(IIIError):
    """The engine's shared store (Redis) is unreachable or did not answer in time."""

    code = ErrorCode.STORE_UNAVAILABLE


class ConnectionFailedError(IIIError):
    """The bridge could not reach the engine within ``connect_timeout``, or the engine refused
    the worker's token (HTTP 401/403 at the upgrade; no retries then)."""

    code = ErrorCode.CONNECTION_FAILED


class NonRetryableError(IIIError):
    """Raise from a handler to refuse the call for good: a durable event delivery failing with
    it goes to the dead letters at once, without retries (docs/events.md)."""

    code = ErrorCode.NON_RETRYABLE


class RetryAfterError(IIIError):
    """Raise from a handler to have a durable event delivery retried after ``retry_after_ms``
    instead of its backoff (it still counts as an attempt). On the wire: ``invocation_failed``
    with ``details: {"retry_after_ms": ...}``."""

    code = ErrorCode.INVOCATION_FAILED

    def __init__(self, message: str, retry_after_ms: int) -> None:
        super().__init__(message, details={"retry_after_ms": retry_after_ms})
        self.retry_after_ms = retry_after_ms


ERROR_CLASSES: dict[str, type[IIIError]] = {
    str(cls.code): cls
    for cls in (
        ProtocolError,
        UnknownMessageTypeError,
        FunctionNotFoundError,
        InvocationFailedError,
        InvocationStoppedError,
        InvocationTimeoutError,
        ConditionFailedError,
        InvalidTriggerError,
        TriggerConflictError,
        TriggerRejectedError,
        TriggerTypeConflictError,
        InvalidArgumentError,
        PayloadTooLargeError,
        NotFoundError,
        StoreUnavailableError,
        InternalError,
        ForbiddenError,
        TooManyRequestsError,
        BridgeClosedError,
        QueueFullError,
        ConnectionFailedError,
        NonRetryableError,
    )
}
"""The :class:`IIIError` subclass of each catalogue code."""


def error_from_wire(body: Any) -> IIIError:
    """Build the matching :class:`IIIError` subclass from a wire ``{code, message}`` object."""
    if isinstance(body, dict):
        code = str(body.get("code") or ErrorCode.INTERNAL_ERROR)
        message = str(body.get("message") or code)
        details = body.get("details")
    else:
        code, message, details = str(ErrorCode.INTERNAL_ERROR), str(body), None
    cls = ERROR_CLASSES.get(code, IIIError)
    return cls(message, code=code, details=details)


def __getattr__(name: str) -> Any:
    if name == "ConnectionClosedError":
        warnings.warn(
            "iii.ConnectionClosedError is deprecated: catch BridgeClosedError (disconnect() was "
            "called) or InvocationStoppedError (the connection dropped)",
            DeprecationWarning,
            stacklevel=3,
        )
        return (BridgeClosedError, InvocationStoppedError)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
