"""iii: the Python SDK for the iii engine.

Connect a worker with :class:`Bridge`, register functions and triggers, and call any function
in the system with :meth:`Bridge.invoke_function`.
"""

__version__ = "0.1.0"

from .bridge import DEFAULT_URL, Bridge
from .context import InvocationContext, current_invocation
from .errors import (
    ConditionFailedError,
    ConnectionClosedError,
    ConnectionFailedError,
    FunctionNotFoundError,
    IIIError,
    InvalidArgumentError,
    InvocationFailedError,
    InvocationStoppedError,
    InvocationTimeoutError,
    ProtocolError,
    error_from_wire,
)
from .logger import Logger, TraceIdFilter
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
    "ConditionFailedError",
    "ConditionRef",
    "ConnectionClosedError",
    "ConnectionFailedError",
    "ErrorBody",
    "ErrorMessage",
    "FunctionNotFoundError",
    "FunctionRef",
    "IIIError",
    "InvalidArgumentError",
    "InvocationContext",
    "InvocationFailedError",
    "InvocationResult",
    "InvocationStoppedError",
    "InvocationTimeoutError",
    "InvokeFunction",
    "Logger",
    "Message",
    "MessageType",
    "Ping",
    "Pong",
    "ProtocolError",
    "RegisterCondition",
    "RegisterFunction",
    "RegisterService",
    "RegisterTrigger",
    "RegisterTriggerType",
    "TraceContext",
    "TraceIdFilter",
    "TriggerInfo",
    "TriggerRef",
    "TriggerRegistrationResult",
    "TriggerTypeRef",
    "UnregisterCondition",
    "UnregisterFunction",
    "UnregisterTrigger",
    "UnregisterTriggerType",
    "WorkerRegistered",
    "__version__",
    "current_invocation",
    "current_trace",
    "current_trace_id",
    "encode_frame",
    "error_from_wire",
    "parse_frame",
]
