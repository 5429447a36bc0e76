"""Turning a step (config + handler) into engine functions, triggers and conditions.

For trigger ``i`` of the step named ``Name`` the handler is registered as
``steps.{Name}:trigger:{i}`` and its conditions (``condition=c`` or ``condition=[c1, c2, ...]``)
as ``steps.{Name}:trigger:{i}:condition``, ``...:condition:1``, ``...:condition:2``, ... bound
with ``registercondition`` in that order, so the engine stops at the first false one — the same
paths the Node Motia uses.

An API handler (or middleware) that raises answers 500
``{"error": "internal_error", "message": "the request could not be handled", "error_id": ...}``;
the traceback is logged (``ctx.logger``, so with the trace id and function path, and forwarded
to the engine) with that error id and the step's name, and never sent to the client.

What a handler and a condition receive as ``input``:

* API trigger: an :class:`~motia.ApiRequest` (the handler runs inside the trigger's middleware);
* event trigger: the emitted data, unchanged (so ``input.get("amount", 0) > 1000`` works);
* cron trigger: the cron payload ``{scheduled_time, actual_time}``.

``ctx.trigger`` tells which trigger fired (``type``, ``index``, ``path``/``method``/``topic``/
``expression``), and ``ctx.input`` holds the normalized ``TriggerInput(trigger, request, data)``.
Handlers, conditions and middleware may be sync (handlers and conditions then run in a worker
thread) or async.
"""

from __future__ import annotations

import asyncio
import inspect
import traceback
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from iii import Bridge, current_invocation
from iii.tracing import new_trace

from .api import ApiRequest, ApiResponse
from .context import FlowContext, TriggerInput, TriggerMetadata
from .runtime import get_bridge
from .triggers import ApiTrigger, CronTrigger, EventTrigger, StepConfig, trigger_config

NextHandler = Callable[[ApiRequest, FlowContext], Awaitable[Any]]

_steps: list[Step] = []


@dataclass(frozen=True)
class Step:
    """A registered step: its config, source file, handler and function paths."""

    config: StepConfig
    file: str
    handler: Callable[..., Any]
    function_paths: list[str] = field(default_factory=list)


def registered_steps() -> list[Step]:
    """Every step registered in this process, in registration order."""
    return list(_steps)


def function_path(step_name: str, index: int) -> str:
    """The handler's function path for trigger ``index`` of a step."""
    return f"steps.{step_name}:trigger:{index}"


def condition_path(step_name: str, index: int, k: int) -> str:
    """``...:condition`` for the first condition of a trigger, ``...:condition:{k}`` after."""
    base = f"{function_path(step_name, index)}:condition"
    return base if k == 0 else f"{base}:{k}"


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

    async def innermost(req: ApiRequest, ctx: FlowContext) -> Any:
        return await call_user(handler, req, ctx)

    chain: NextHandler = innermost
    for item in reversed(middleware):
        chain = _link(item, chain)
    return chain


def _link(item: Callable[..., Any], next_handler: NextHandler) -> NextHandler:
    async def run(req: ApiRequest, ctx: FlowContext) -> Any:
        result = item(req, ctx, next_handler)
        while inspect.isawaitable(result):
            result = await result
        return result

    return run


_compose_middleware = compose_middleware


def step_wrapper(
    config: StepConfig,
    file: str,
    handler: Callable[..., Any],
    *,
    bridge: Bridge | None = None,
) -> Step:
    """Register a step with the bridge (the default one unless given): one function per trigger.

    ``file`` is the step's source file (pass ``__file__``). Registrations made before the
    bridge connects are sent when it does.
    """
    if isinstance(config, dict):
        config = StepConfig.model_validate(config)
    if not isinstance(config, StepConfig):
        raise TypeError(f"step_wrapper config must be a StepConfig, got {type(config).__name__}")
    if not isinstance(file, str):
        raise TypeError(
            f"step_wrapper file must be a str (pass __file__), got {type(file).__name__}"
        )
    if not callable(handler):
        raise TypeError(f"step_wrapper handler must be callable, got {type(handler).__name__}")
    target = bridge or get_bridge()
    paths: list[str] = []
    for index, trigger in enumerate(config.triggers):
        path = function_path(config.name, index)
        target.register_function(
            path,
            _invoker(target, config, index, trigger, handler),
            description=config.description,
            metadata={"step": config.name, "file": file, "trigger": trigger.type},
        )
        for k, condition in enumerate(trigger.conditions):
            cpath = condition_path(config.name, index, k)
            target.register_function(
                cpath, _condition(target, config.name, index, trigger, condition, path)
            )
            target.register_condition(path, cpath)
        target.register_trigger(trigger.type, path, trigger_config(trigger))
        paths.append(path)
    step = Step(config, file, handler, paths)
    _steps.append(step)
    return step


AnyTrigger = ApiTrigger | EventTrigger | CronTrigger


def _context(
    bridge: Bridge, step: str, index: int, trigger: AnyTrigger, path: str, data: Any
) -> tuple[FlowContext, Any]:
    inv = current_invocation()
    info = inv.trigger if inv else None
    meta = TriggerMetadata(
        type=(info.type if info else None) or trigger.type,
        index=index,
        id=info.id if info else None,
        path=(info.path if info else None) or getattr(trigger, "path", None),
        method=(info.method if info else None) or getattr(trigger, "method", None),
        topic=(info.topic if info else None) or getattr(trigger, "topic", None),
        expression=(info.expression if info else None) or getattr(trigger, "expression", None),
    )
    request = ApiRequest.from_payload(data) if isinstance(trigger, ApiTrigger) else None
    value = request if request is not None else data
    payload = request.body if request is not None else data
    ctx = FlowContext(
        bridge=bridge,
        trigger=meta,
        trace_id=inv.trace_id if inv else new_trace().trace_id,
        function_path=path,
        input=TriggerInput(meta, request, payload),
        step=step,
    )
    return ctx, value


def _invoker(
    bridge: Bridge, config: StepConfig, index: int, trigger: AnyTrigger, handler: Callable[..., Any]
) -> Callable[[Any], Awaitable[Any]]:
    path = function_path(config.name, index)
    chain = (
        compose_middleware(trigger.middleware, handler) if isinstance(trigger, ApiTrigger) else None
    )

    async def invoke(data: Any) -> Any:
        ctx, value = _context(bridge, config.name, index, trigger, path, data)
        if chain is not None:
            try:
                return to_wire(await chain(value, ctx))
            except Exception as exc:
                return internal_error(ctx, exc)
        return to_wire(await call_user(handler, value, ctx))

    return invoke


def internal_error(ctx: FlowContext, exc: BaseException) -> dict[str, Any]:
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


def _condition(
    bridge: Bridge,
    step: str,
    index: int,
    trigger: AnyTrigger,
    condition: Callable[..., Any],
    path: str,
) -> Callable[[Any], Awaitable[bool]]:
    async def check(data: Any) -> bool:
        ctx, value = _context(bridge, step, index, trigger, path, data)
        return bool(await call_user(condition, value, ctx))

    return check


def to_wire(result: Any) -> Any:
    """Serialize a result: ``ApiResponse`` to ``{status, body, headers}``; models dumped."""
    if isinstance(result, ApiResponse):
        return result.to_wire()
    dump = getattr(result, "model_dump", None)
    return dump(mode="json") if callable(dump) else result
