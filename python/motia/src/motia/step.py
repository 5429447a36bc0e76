"""Turning a step (config + handler) into engine functions, triggers and conditions.

For trigger ``i`` of the step named ``Name`` the handler is registered as
``steps.{Name}:trigger:{i}`` and its conditions (``condition=c`` or ``condition=[c1, c2, ...]``)
as ``steps.{Name}:trigger:{i}:condition``, ``...:condition:1``, ``...:condition:2``, ... bound
with ``registercondition`` in that order, so the engine stops at the first false one — the same
paths the Node Motia uses.

Each function is registered with what the engine needs to describe it (and what
``/__motia/openapi.json`` is built from): ``request_format`` is the JSON Schema of an API
trigger's ``body_schema``, ``response_format`` is ``{"<status>": <JSON Schema>}`` from its
``response_schema``, and ``metadata.motia`` holds ``step``, ``app`` (+ ``replica``), ``file``,
``trigger_types``, ``flows``/``emits`` when declared, and for API triggers ``query_schema`` and
``description`` when declared.

Registering a step under a name this process already registered from the same file replaces
it (hot reload): the new version goes in first, then what only the old one had is taken back,
so a route never disappears in between. Behaviour at call time is in :mod:`motia.invoke`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from iii import Bridge, ConditionRef, FunctionRef, TriggerRef

from .errors import MotiaConfigError
from .invoke import (
    call_user,
    compose_middleware,
    condition_runner,
    internal_error,
    invoker,
    to_wire,
)
from .runtime import get_bridge, get_guard, get_identity, project_root
from .schemas import Schema
from .triggers import AnyTrigger, ApiTrigger, StepConfig, trigger_config

__all__ = [
    "Step",
    "call_user",
    "compose_middleware",
    "condition_path",
    "function_path",
    "internal_error",
    "registered_steps",
    "step_wrapper",
    "to_wire",
]

_steps: list[Step] = []


@dataclass(eq=False)
class Step:
    """A registered step: its config, source file, handler and function paths.

    ``unregister()`` takes back its functions, conditions and triggers (twice is safe).
    """

    config: StepConfig[Any]
    file: str
    handler: Callable[..., Any]
    function_paths: list[str] = field(default_factory=list)
    bridge: Bridge | None = field(default=None, repr=False)
    functions: list[FunctionRef] = field(default_factory=list, repr=False)
    conditions: list[ConditionRef] = field(default_factory=list, repr=False)
    triggers: list[TriggerRef] = field(default_factory=list, repr=False)
    active: bool = True

    def unregister(self, *, keep: Step | None = None) -> None:
        """Take the step back; with ``keep``, leave what that newer version registered too."""
        if not self.active:
            return
        self.active = False
        for trigger in self.triggers:
            trigger.unregister()  # trigger ids are unique to each version
        kept_conditions = (
            {(c.function_path, c.condition_function_path) for c in keep.conditions}
            if keep
            else set()
        )
        for cond in self.conditions:
            if (cond.function_path, cond.condition_function_path) not in kept_conditions:
                cond.unregister()
        kept_functions = {f.function_path for f in keep.functions} if keep else set()
        for fn in self.functions:
            if fn.function_path not in kept_functions:
                fn.unregister()
        if self in _steps:
            _steps.remove(self)


def registered_steps() -> list[Step]:
    """Every step registered in this process (and not taken back), in registration order."""
    return list(_steps)


def function_path(step_name: str, index: int) -> str:
    """The handler's function path for trigger ``index`` of a step."""
    return f"steps.{step_name}:trigger:{index}"


def condition_path(step_name: str, index: int, k: int) -> str:
    """``...:condition`` for the first condition of a trigger, ``...:condition:{k}`` after."""
    base = f"{function_path(step_name, index)}:condition"
    return base if k == 0 else f"{base}:{k}"


def _relative(file: str) -> str:
    root = project_root()
    if root is None:
        return file
    try:
        return os.path.relpath(file, root)
    except ValueError:
        return file


def _metadata(config: StepConfig[Any], trigger: AnyTrigger, file: str) -> dict[str, Any]:
    motia: dict[str, Any] = {
        "step": config.name,
        **get_identity().metadata(),
        "file": _relative(file),
        "runtime": "python",
        "trigger_types": [t.type for t in config.triggers],
    }
    if config.flows:
        motia["flows"] = list(config.flows)
    if config.emits:
        motia["emits"] = list(config.emits)
    if isinstance(trigger, ApiTrigger):
        query = Schema.of(trigger.query_schema)
        if query is not None:
            motia["query_schema"] = query.json_schema()
        description = trigger.description or config.description
        if description:
            motia["description"] = description
    return {"motia": motia}


def _formats(trigger: AnyTrigger) -> tuple[Any, Any]:
    if not isinstance(trigger, ApiTrigger):
        return None, None
    body = Schema.of(trigger.body_schema)
    request = body.json_schema() if body is not None else None
    responses = None
    if trigger.response_schema:
        responses = {
            str(status): Schema(schema).json_schema()
            for status, schema in sorted(trigger.response_schema.items())
        }
    return request, responses


def _previous(target: Bridge, name: str, file: str) -> Step | None:
    for step in _steps:
        if step.bridge is target and step.config.name == name:
            if os.path.abspath(step.file) != os.path.abspath(file):
                other = _relative(step.file)
                raise MotiaConfigError(
                    f'{_relative(file)}: step name "{name}" is already used by {other}'
                )
            return step
    return None


def step_wrapper(
    config: StepConfig[Any],
    file: str,
    handler: Callable[..., Any],
    *,
    bridge: Bridge | None = None,
) -> Step:
    """Register a step with the bridge (the default one unless given): one function per trigger.

    ``file`` is the step's source file (pass ``__file__``). Registrations made before the
    bridge connects are sent when it does. Raises :class:`~motia.errors.MotiaConfigError`
    when the name is used by another step file of this process, and
    :class:`~motia.guard.StepNameTakenError` when another project serves that step on the
    engine (checked when the runner, ``motia-py run``/``dev``, loaded the engine's list).
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
    previous = _previous(target, config.name, file)
    guard = get_guard()
    if guard is not None:
        guard.claim(config.name, _relative(file))
    step = Step(config, file, handler, bridge=target)
    for index, trigger in enumerate(config.triggers):
        path = function_path(config.name, index)
        request_format, response_format = _formats(trigger)
        step.functions.append(
            target.register_function(
                path,
                invoker(target, config, index, trigger, path, handler),
                description=config.description,
                request_format=request_format,
                response_format=response_format,
                metadata=_metadata(config, trigger, file),
            )
        )
        for k, condition in enumerate(trigger.conditions):
            cpath = condition_path(config.name, index, k)
            step.functions.append(
                target.register_function(
                    cpath, condition_runner(target, config.name, index, trigger, condition, path)
                )
            )
            step.conditions.append(target.register_condition(path, cpath))
        step.triggers.append(target.register_trigger(trigger.type, path, trigger_config(trigger)))
        step.function_paths.append(path)
    _steps.append(step)
    if previous is not None:
        previous.unregister(keep=step)
    return step
