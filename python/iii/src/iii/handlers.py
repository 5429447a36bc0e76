"""Running a handler for an incoming ``invokefunction`` and building its ``invocationresult``."""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from .context import InvocationContext, reset_invocation, set_invocation
from .errors import ErrorCode, FunctionNotFoundError, IIIError
from .messages import InvocationResult, InvokeFunction, encode_frame
from .registry import Handler
from .tracing import new_trace, parse_traceparent, use_trace

log = logging.getLogger("iii")


def is_async_callable(fn: Any) -> bool:
    """Whether calling ``fn`` returns a coroutine (async functions and async ``__call__``)."""
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004
    )


async def call_handler(handler: Handler, data: Any) -> Any:
    """Call ``handler(data)``: async handlers on the loop, sync ones in a worker thread."""
    if is_async_callable(handler):
        result = await handler(data)
    else:
        result = await asyncio.to_thread(handler, data)
    if inspect.isawaitable(result):
        result = await result
    return result


def error_body(exc: BaseException) -> dict[str, Any]:
    """The ``invocationresult`` error for a handler's exception (``protocol/sdk-cases.json``).

    An :class:`~iii.errors.IIIError` keeps its code, message and details (custom codes too);
    anything else becomes ``invocation_failed`` with its message (its type name if empty).
    """
    if isinstance(exc, IIIError):
        body = exc.to_wire()
        if not body["code"]:
            body["code"] = ErrorCode.INVOCATION_FAILED.value
        return body
    return {"code": ErrorCode.INVOCATION_FAILED.value, "message": str(exc) or type(exc).__name__}


async def run_invocation(msg: InvokeFunction, handler: Handler | None) -> str | None:
    """Run the call in its own trace and invocation context.

    Returns the encoded ``invocationresult`` text, or ``None`` for a fire-and-forget call.
    A handler that raises gives the error of :func:`error_body`.
    """
    # The traceparent received names this call's span (the engine's, with tracing on): logs and
    # the calls the handler makes use it as it is, as the Node SDK does.
    trace = parse_traceparent(msg.traceparent, msg.baggage) or new_trace(msg.baggage)
    ctx = InvocationContext(msg.function_path, msg.invocation_id, msg.trigger, trace)
    token = set_invocation(ctx)
    try:
        with use_trace(trace):
            try:
                if handler is None:
                    raise FunctionNotFoundError(f"function {msg.function_path!r} is not registered")
                result = await call_handler(handler, msg.data)
                if msg.invocation_id is None:
                    return None
                return encode_frame(
                    InvocationResult(
                        invocation_id=msg.invocation_id,
                        function_path=msg.function_path,
                        result=result,
                        traceparent=trace.traceparent,
                        baggage=msg.baggage,
                    )
                )
            except Exception as exc:  # normalized once, here, at the boundary
                if not isinstance(exc, FunctionNotFoundError):
                    log.error(
                        "[%s] handler %s failed: %s",
                        trace.trace_id[:8],
                        msg.function_path,
                        exc,
                        exc_info=True,
                        extra={"trace_id": trace.trace_id, "function_path": msg.function_path},
                    )
                if msg.invocation_id is None:
                    return None
                return encode_frame(
                    InvocationResult.model_validate(
                        {
                            "invocation_id": msg.invocation_id,
                            "function_path": msg.function_path,
                            "error": error_body(exc),
                            "traceparent": trace.traceparent,
                            "baggage": msg.baggage,
                        }
                    )
                )
    finally:
        reset_invocation(token)
