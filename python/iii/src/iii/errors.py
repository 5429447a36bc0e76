"""The error catalogue of the iii SDK.

Every error the SDK raises for a remote problem is an :class:`IIIError` carrying the stable
wire ``code`` (``{code, message, details?}`` on the wire). Use :func:`error_from_wire` to turn a
wire error into the matching subclass.
"""

from __future__ import annotations

from typing import Any


class IIIError(Exception):
    """Base class of every coded iii error."""

    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.details = details

    def to_wire(self) -> dict[str, Any]:
        """Return the error as the protocol's ``{code, message, details?}`` object."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class ProtocolError(IIIError):
    """A frame could not be parsed (``invalid_message`` or ``unknown_message_type``)."""

    code = "invalid_message"


class FunctionNotFoundError(IIIError):
    """No function with that path is registered."""

    code = "function_not_found"


class InvocationFailedError(IIIError):
    """The handler raised."""

    code = "invocation_failed"


class InvocationStoppedError(IIIError):
    """The worker running the call disconnected."""

    code = "invocation_stopped"


class InvocationTimeoutError(IIIError):
    """No result arrived within the timeout."""

    code = "invocation_timeout"


class ConditionFailedError(IIIError):
    """A condition returned ``false``."""

    code = "condition_failed"


class InvalidArgumentError(IIIError):
    """A built-in function got wrong input."""

    code = "invalid_argument"


class ConnectionFailedError(IIIError):
    """The bridge could not reach the engine within ``connect_timeout``."""

    code = "connection_failed"


class ConnectionClosedError(IIIError):
    """The socket closed while a call was waiting for its result."""

    code = "connection_closed"


class NonRetryableError(IIIError):
    """Raise from a handler to refuse the call for good: a durable event delivery failing with
    it goes to the dead letters at once, without retries."""

    code = "non_retryable"


class RetryAfterError(IIIError):
    """Raise from a handler to have a durable event delivery retried after ``retry_after_ms``
    instead of its backoff (it still counts as an attempt). On the wire: ``invocation_failed``
    with ``details: {"retry_after_ms": ...}``."""

    code = "invocation_failed"

    def __init__(self, message: str, retry_after_ms: int) -> None:
        super().__init__(message, details={"retry_after_ms": retry_after_ms})
        self.retry_after_ms = retry_after_ms


_BY_CODE: dict[str, type[IIIError]] = {
    cls.code: cls
    for cls in (
        ProtocolError,
        FunctionNotFoundError,
        InvocationFailedError,
        InvocationStoppedError,
        InvocationTimeoutError,
        ConditionFailedError,
        InvalidArgumentError,
        ConnectionFailedError,
        ConnectionClosedError,
        NonRetryableError,
    )
}


def error_from_wire(body: Any) -> IIIError:
    """Build the matching :class:`IIIError` subclass from a wire ``{code, message}`` object."""
    if isinstance(body, dict):
        code = str(body.get("code") or "internal_error")
        message = str(body.get("message") or code)
        details = body.get("details")
    else:
        code, message, details = "internal_error", str(body), None
    cls = _BY_CODE.get(code, IIIError)
    return cls(message, code=code, details=details)
