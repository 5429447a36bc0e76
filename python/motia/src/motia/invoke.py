"""Running a step's handler and conditions when the engine calls them.

What a handler and a condition receive as ``input``:

* API trigger: an :class:`~motia.ApiRequest` (the handler runs inside the trigger's
  middleware, after ``body_schema`` / ``query_schema`` validation);
* event, cron, state and stream triggers: the payload, unchanged; a dict payload is a
  :class:`~motia.TriggerData` (a ``dict`` that also has the original's ``.data`` /
  ``.trigger``), so both ``input.get("amount", 0) > 1000`` and ``input.data`` work.

A condition declared with three parameters is called ``(input, ctx, trigger)`` as in the
original Motia, ``trigger`` being the trigger metadata as a dict (``{"type", "index", ...}``);
with two it is called ``(input, ctx)``.

An API handler (or middleware) that raises answers 500
``{"error": "internal_error", "message": "the request could not be handled", "error_id": ...}``;
the traceback is logged (``ctx.logger``, so with the trace id and function path, and forwarded
to the engine) with that error id and the step's name, and never sent to the client.
Handlers, conditions and middleware may be sync (handlers and conditions then run in a worker
thread) or async.
"""

from __future__ import annotations

import asyncio
import inspect
import traceback
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from iii import Bridge, current_invocation
from iii.tracing import new_trace

from .api import ApiRequest, ApiResponse
from .context import FlowContext, TriggerData, TriggerInput, TriggerMetadata
from .schemas import validation_failed
from .triggers import AnyTrigger, ApiTrigger, StepConfig

NextHandler = Callable[[ApiRequest[Any], FlowContext[Any]], Awaitable[Any]]


async def call_user(fn: Callable[..., Any], *args: Any) -> Any:
    """Call user code: async on the loop, sync in a thread; await what it returns if needed."""
    if inspect.iscoroutinefunction(fn):
        result = await fn(*args)
    else:
        result = await asyncio.to_thread(fn, *args)
    while inspect.isawaitable(result):
        result = await result
    return result


def compose_middleware(
    middleware: Sequence[Callable[..., Any]], handler: Callable[..., Any]
) -> NextHandler:
    """Chain middleware around ``handler``; the first listed runs outermost.

    Each middleware is called as ``middleware(req, ctx, next_handler)`` and usually does
    ``response = await next_handler(req, ctx)``.
    """

    async def innermost(req: ApiRequest[Any], ctx: FlowContext[Any]) -> Any:
        return await call_user(handler, req, ctx)

    chain: NextHandler = innermost
    for item in reversed(middleware):
        chain = _link(item, chain)
    return chain


def _link(item: Callable[..., Any], next_handler: NextHandler) -> NextHandler:
    async def run(req: ApiRequest[Any], ctx: FlowContext[Any]) -> Any:
        result = item(req, ctx, next_handler)
        while inspect.isawaitable(result):
            result = await result
        return result

    return run


def takes_trigger(fn: Callable[..., Any]) -> bool:
    """True when ``fn`` accepts a third positional argument (the original's condition form)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 3


def _metadata(trigger: AnyTrigger, index: int) -> TriggerMetadata:
    inv = current_invocation()
    info = inv.trigger if inv else None

    def pick(name: str) -> Any:
        sent = getattr(info, name, None) if info is not None else None
        return sent if sent is not None else getattr(trigger, name, None)

    return TriggerMetadata(
        type=(info.type if info else None) or trigger.type,
        index=index,
        id=info.id if info else None,
        path=pick("path"),
        method=pick("method"),
        topic=pick("topic"),
        expression=pick("expression"),
        stream_name=getattr(trigger, "stream_name", None),
        group_id=getattr(trigger, "group_id", None),
        item_id=getattr(trigger, "item_id", None),
    )


def build_context(
    bridge: Bridge,
    step: str,
    index: int,
    trigger: AnyTrigger,
    path: str,
    data: Any,
    emits: list[str] | None = None,
) -> tuple[FlowContext[Any], Any]:
    """The ``ctx`` and the ``input`` of one call."""
    inv = current_invocation()
    meta = _metadata(trigger, index)
    request = ApiRequest.from_payload(data) if isinstance(trigger, ApiTrigger) else None
    if request is not None:
        request.trigger = meta
        value: Any = request
        payload = request.body
    else:
        value = TriggerData(data, meta) if type(data) is dict else data
        payload = value
    ctx: FlowContext[Any] = FlowContext(
        bridge=bridge,
        trigger=meta,
        trace_id=inv.trace_id if inv else new_trace().trace_id,
        function_path=path,
        input=TriggerInput(meta, request, payload),
        step=step,
        emits=emits,
    )
    return ctx, value


def validate_request(trigger: ApiTrigger, req: ApiRequest[Any]) -> dict[str, Any] | None:
    """Node Motia's 400 when the body or query does not match; ``None`` (and the parsed values
    put in place) when they do."""
    for schema, where in ((trigger.body, "body"), (trigger.query, "query_params")):
        if schema is None:
            continue
        ok, result = schema.validate(getattr(req, where))
        if not ok:
            return validation_failed(where, result)
        setattr(req, where, result)
    return None


def invoker(
    bridge: Bridge,
    config: StepConfig[Any],
    index: int,
    trigger: AnyTrigger,
    path: str,
    handler: Callable[..., Any],
) -> Callable[[Any], Awaitable[Any]]:
    """The function registered for trigger ``index`` of a step."""
    chain = (
        compose_middleware(trigger.middleware, handler) if isinstance(trigger, ApiTrigger) else None
    )

    async def invoke(data: Any) -> Any:
        ctx, value = build_context(bridge, config.name, index, trigger, path, data, config.emits)
        if chain is not None and isinstance(trigger, ApiTrigger):
            try:
                invalid = validate_request(trigger, value)
                if invalid is not None:
                    return invalid
                ctx.input = TriggerInput(ctx.trigger, value, value.body)  # the validated body
                return to_wire(await chain(value, ctx))
            except Exception as exc:
                return internal_error(ctx, exc)
        return to_wire(await call_user(handler, value, ctx))

    return invoke


def condition_runner(
    bridge: Bridge,
    step: str,
    index: int,
    trigger: AnyTrigger,
    condition: Callable[..., Any],
    path: str,
) -> Callable[[Any], Awaitable[bool]]:
    """The function registered for one condition of a trigger."""
    three = takes_trigger(condition)

    async def check(data: Any) -> bool:
        ctx, value = build_context(bridge, step, index, trigger, path, data)
        if three:
            return bool(await call_user(condition, value, ctx, ctx.trigger.to_dict()))
        return bool(await call_user(condition, value, ctx))

    return check


def internal_error(ctx: FlowContext[Any], exc: BaseException) -> dict[str, Any]:
    """The 500 answer for an API step that raised; logs the traceback with a new error id."""
    error_id = str(uuid.uuid4())
    stack = "".join(traceback.format_exception(exc)).rstrip()
    ctx.logger.error(
        f"step {ctx.step} failed (error_id {error_id}): {stack}", {"error_id": error_id}
    )
    return {
        "status": 500,
        "body": {
            "error": "internal_error",
            "message": "the request could not be handled",
            "error_id": error_id,
        },
    }


def to_wire(result: Any) -> Any:
    """Serialize a result: ``ApiResponse`` to ``{status, body, headers}``; models dumped."""
    if isinstance(result, ApiResponse):
        return result.to_wire()
    dump = getattr(result, "model_dump", None)
    return dump(mode="json") if callable(dump) else result
