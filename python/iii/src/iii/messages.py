"""Every frame of the iii bridge protocol as a Pydantic model, with parsing and encoding.

This module does no I/O (Sans-I/O): :func:`parse_frame` turns the text of one WebSocket frame
into a model or raises :class:`~iii.errors.ProtocolError` with the protocol's error code, and
:func:`encode_frame` turns a model back into text. The models mirror ``docs/protocol.md``:
lowercase ``type``, snake_case fields, unknown fields ignored.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .errors import ProtocolError, UnknownMessageTypeError

NonEmpty = Annotated[str, Field(min_length=1)]


class MessageType(StrEnum):
    """The ``type`` of every protocol frame."""

    REGISTER_FUNCTION = "registerfunction"
    UNREGISTER_FUNCTION = "unregisterfunction"
    REGISTER_TRIGGER = "registertrigger"
    UNREGISTER_TRIGGER = "unregistertrigger"
    REGISTER_CONDITION = "registercondition"
    UNREGISTER_CONDITION = "unregistercondition"
    REGISTER_TRIGGER_TYPE = "registertriggertype"
    UNREGISTER_TRIGGER_TYPE = "unregistertriggertype"
    TRIGGER_REGISTRATION_RESULT = "triggerregistrationresult"
    REGISTER_SERVICE = "registerservice"
    INVOKE_FUNCTION = "invokefunction"
    INVOCATION_RESULT = "invocationresult"
    WORKER_REGISTERED = "workerregistered"
    PING = "ping"
    PONG = "pong"
    ERROR = "error"


class _Frame(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=False)


class ErrorBody(BaseModel):
    """The protocol's error object ``{code, message, details?}``."""

    model_config = ConfigDict(strict=True, extra="ignore")
    code: NonEmpty
    message: str = ""
    details: Any = None


class TriggerInfo(BaseModel):
    """Trigger metadata on a trigger-caused call: ``{type, id, index?, path?, ...}``."""

    model_config = ConfigDict(strict=True, extra="allow")
    type: str
    id: str | None = None
    index: int | None = None
    path: str | None = None
    method: str | None = None
    topic: str | None = None
    expression: str | None = None


class RegisterFunction(_Frame):
    """Registers a callable function with the engine (W->E)."""

    type: Literal["registerfunction"] = "registerfunction"
    function_path: NonEmpty
    description: str | None = None
    request_format: Any = None
    response_format: Any = None
    metadata: dict[str, Any] | None = None


class UnregisterFunction(_Frame):
    """Removes a function this worker registered (W->E)."""

    type: Literal["unregisterfunction"] = "unregisterfunction"
    function_path: NonEmpty


class RegisterTrigger(_Frame):
    """Binds a trigger configuration to a function (W->E; E->W to a trigger type's owner)."""

    type: Literal["registertrigger"] = "registertrigger"
    id: NonEmpty
    trigger_type: NonEmpty
    function_path: NonEmpty
    config: dict[str, Any]


class UnregisterTrigger(_Frame):
    """Removes a trigger (W->E; E->W to a trigger type's owner)."""

    type: Literal["unregistertrigger"] = "unregistertrigger"
    id: NonEmpty
    trigger_type: str | None = None


class RegisterCondition(_Frame):
    """Binds a condition function to a handler function (W->E)."""

    type: Literal["registercondition"] = "registercondition"
    function_path: NonEmpty
    condition_function_path: NonEmpty


class UnregisterCondition(_Frame):
    """Removes a condition binding this worker made (W->E)."""

    type: Literal["unregistercondition"] = "unregistercondition"
    function_path: NonEmpty
    condition_function_path: NonEmpty


class RegisterTriggerType(_Frame):
    """Claims a trigger type; triggers of it are forwarded to this worker (W->E)."""

    type: Literal["registertriggertype"] = "registertriggertype"
    id: NonEmpty
    description: str | None = None


class UnregisterTriggerType(_Frame):
    """Gives up a trigger type (W->E)."""

    type: Literal["unregistertriggertype"] = "unregistertriggertype"
    id: NonEmpty


class TriggerRegistrationResult(_Frame):
    """A trigger type owner's answer to a forwarded ``registertrigger`` (W->E)."""

    type: Literal["triggerregistrationresult"] = "triggerregistrationresult"
    id: NonEmpty
    trigger_type: NonEmpty
    function_path: NonEmpty
    error: ErrorBody | None = None


class RegisterService(_Frame):
    """Describes a service grouping functions (W->E)."""

    type: Literal["registerservice"] = "registerservice"
    id: NonEmpty
    name: str | None = None
    description: str | None = None
    parent_service_id: str | None = None


class InvokeFunction(_Frame):
    """Asks for a function to run (both directions); no ``invocation_id`` = fire-and-forget."""

    type: Literal["invokefunction"] = "invokefunction"
    invocation_id: NonEmpty | None = None
    function_path: NonEmpty
    data: Any = None
    trigger: TriggerInfo | None = None
    traceparent: str | None = None
    baggage: str | None = None
    timeout_ms: Annotated[int, Field(gt=0)] | Annotated[float, Field(gt=0)] | None = None


class InvocationResult(_Frame):
    """The one answer to an ``invokefunction`` with an id: ``result`` or ``error``."""

    type: Literal["invocationresult"] = "invocationresult"
    invocation_id: NonEmpty
    function_path: str = ""
    result: Any = None
    error: ErrorBody | None = None
    traceparent: str | None = None
    baggage: str | None = None


class WorkerRegistered(_Frame):
    """Sent by the engine once the socket is accepted (E->W)."""

    type: Literal["workerregistered"] = "workerregistered"
    worker_id: str


class Ping(_Frame):
    """Application-level liveness check; the other side answers :class:`Pong`."""

    type: Literal["ping"] = "ping"


class Pong(_Frame):
    """Answer to :class:`Ping`."""

    type: Literal["pong"] = "pong"


class ErrorMessage(_Frame):
    """The engine could not take a frame (E->W); ``ref`` names the offending frame."""

    type: Literal["error"] = "error"
    code: NonEmpty
    message: str = ""
    ref: str | None = None
    details: Any = None


Message = (
    RegisterFunction
    | UnregisterFunction
    | RegisterTrigger
    | UnregisterTrigger
    | RegisterCondition
    | UnregisterCondition
    | RegisterTriggerType
    | UnregisterTriggerType
    | TriggerRegistrationResult
    | RegisterService
    | InvokeFunction
    | InvocationResult
    | WorkerRegistered
    | Ping
    | Pong
    | ErrorMessage
)

MESSAGE_CLASSES: dict[str, type[_Frame]] = {
    MessageType.REGISTER_FUNCTION: RegisterFunction,
    MessageType.UNREGISTER_FUNCTION: UnregisterFunction,
    MessageType.REGISTER_TRIGGER: RegisterTrigger,
    MessageType.UNREGISTER_TRIGGER: UnregisterTrigger,
    MessageType.REGISTER_CONDITION: RegisterCondition,
    MessageType.UNREGISTER_CONDITION: UnregisterCondition,
    MessageType.REGISTER_TRIGGER_TYPE: RegisterTriggerType,
    MessageType.UNREGISTER_TRIGGER_TYPE: UnregisterTriggerType,
    MessageType.TRIGGER_REGISTRATION_RESULT: TriggerRegistrationResult,
    MessageType.REGISTER_SERVICE: RegisterService,
    MessageType.INVOKE_FUNCTION: InvokeFunction,
    MessageType.INVOCATION_RESULT: InvocationResult,
    MessageType.WORKER_REGISTERED: WorkerRegistered,
    MessageType.PING: Ping,
    MessageType.PONG: Pong,
    MessageType.ERROR: ErrorMessage,
}

_ADAPTER: TypeAdapter[Message] = TypeAdapter(Annotated[Message, Field(discriminator="type")])

# Fields kept in the encoded frame even when ``None`` (JSON ``null`` is meaningful there).
_KEEP_NULL = {"invokefunction": ("data",), "invocationresult": ("result",)}


def parse_frame(raw: str | bytes) -> Message:
    """Parse one frame's text into its model.

    Raises :class:`ProtocolError` with ``code`` ``invalid_message`` (not JSON, not an object,
    a missing or wrongly typed field) or ``unknown_message_type``.
    """
    try:
        obj = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise ProtocolError(f"frame is not valid JSON: {exc}") from None
    return parse_object(obj)


def parse_object(obj: Any) -> Message:
    """Validate an already decoded JSON value as a frame (see :func:`parse_frame`)."""
    if not isinstance(obj, dict):
        raise ProtocolError(f"frame must be a JSON object, got {type(obj).__name__}")
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("frame has no string 'type'")
    if kind not in MESSAGE_CLASSES:
        raise UnknownMessageTypeError(f"unknown message type {kind!r}")
    try:
        return _ADAPTER.validate_python(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or kind
        raise ProtocolError(f"{kind}: {where}: {first['msg']}", details=exc.errors()) from None


def frame_to_dict(msg: Message) -> dict[str, Any]:
    """Return the JSON object of a frame: ``None`` fields dropped except meaningful nulls."""
    out = msg.model_dump(mode="json", exclude_none=True)
    for key in _KEEP_NULL.get(msg.type, ()):
        if key not in out and not (key == "result" and out.get("error")):
            out[key] = None
    return out


def encode_frame(msg: Message) -> str:
    """Encode a frame as the text of one WebSocket frame."""
    return json.dumps(frame_to_dict(msg), separators=(",", ":"))
