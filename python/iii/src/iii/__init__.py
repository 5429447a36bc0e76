"""iii: the Python SDK for the iii engine.

Connect a worker with :class:`Bridge`, register functions and triggers, and call any function
in the system with :meth:`Bridge.invoke_function`.
"""

__version__ = "0.1.0"

from typing import Any

from .bridge import DEFAULT_URL, Bridge
from .context import InvocationContext, current_invocation
from .errors import (
    BridgeClosedError,
    ConditionFailedError,
    ConnectionFailedError,
    ErrorCode,
    ForbiddenError,
    FunctionNotFoundError,
    IIIError,
    InternalError,
    InvalidArgumentError,
    InvalidTriggerError,
    InvocationFailedError,
    InvocationStoppedError,
    InvocationTimeoutError,
    NonRetryableError,
    NotFoundError,
    PayloadTooLargeError,
    ProtocolError,
    QueueFullError,
    RetryAfterError,
    StoreUnavailableError,
    TooManyRequestsError,
    TriggerConflictError,
    TriggerRejectedError,
    TriggerTypeConflictError,
    UnknownMessageTypeError,
    error_from_wire,
)
from .events import DeadLetter, DeadLetterPage, EmitResult, Events, SubscriptionStats
from .logger import JsonFormatter, Logger, LogSink, TraceIdFilter, use_json_logs
from .messages import (
    ErrorBody,
    ErrorMessage,
    InvocationResult,
    InvokeFunction,
    Message,
    MessageType,
    Ping,
    Pong,
    RegisterCondition,
    RegisterFunction,
    RegisterService,
    RegisterTrigger,
    RegisterTriggerType,
    TriggerInfo,
    TriggerRegistrationResult,
    UnregisterCondition,
    UnregisterFunction,
    UnregisterTrigger,
    UnregisterTriggerType,
    WorkerRegistered,
    encode_frame,
    parse_frame,
)
from .refs import ConditionRef, FunctionRef, TriggerRef, TriggerTypeRef
from .tracing import TraceContext, current_trace, current_trace_id

__all__ = [
    "DEFAULT_URL",
    "Bridge",
    "BridgeClosedError",
    "ConditionFailedError",
    "ConditionRef",
    "ConnectionFailedError",
    "DeadLetter",
    "DeadLetterPage",
    "EmitResult",
    "ErrorBody",
    "ErrorCode",
    "ErrorMessage",
    "ForbiddenError",
    "Events",
    "FunctionNotFoundError",
    "FunctionRef",
    "IIIError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidTriggerError",
    "InvocationContext",
    "InvocationFailedError",
    "InvocationResult",
    "InvocationStoppedError",
    "InvocationTimeoutError",
    "InvokeFunction",
    "JsonFormatter",
    "LogSink",
    "Logger",
    "Message",
    "MessageType",
    "NonRetryableError",
    "NotFoundError",
    "PayloadTooLargeError",
    "Ping",
    "Pong",
    "ProtocolError",
    "QueueFullError",
    "TooManyRequestsError",
    "RegisterCondition",
    "RegisterFunction",
    "RegisterService",
    "RegisterTrigger",
    "RegisterTriggerType",
    "StoreUnavailableError",
    "RetryAfterError",
    "SubscriptionStats",
    "TraceContext",
    "TraceIdFilter",
    "TriggerConflictError",
    "TriggerInfo",
    "TriggerRef",
    "TriggerRegistrationResult",
    "TriggerRejectedError",
    "TriggerTypeConflictError",
    "TriggerTypeRef",
    "UnknownMessageTypeError",
    "UnregisterCondition",
    "UnregisterFunction",
    "UnregisterTrigger",
    "UnregisterTriggerType",
    "use_json_logs",
    "WorkerRegistered",
    "__version__",
    "current_invocation",
    "current_trace",
    "current_trace_id",
    "encode_frame",
    "error_from_wire",
    "parse_frame",
]


def __getattr__(name: str) -> Any:
    # Deprecated names, resolved lazily so that importing iii warns nobody.
    if name == "ConnectionClosedError":
        from . import errors

        return errors.__getattr__(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
