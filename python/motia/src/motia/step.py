"""Turning a step (config + handler) into engine functions, triggers and conditions.

For trigger ``i`` of the step named ``Name`` the handler is registered as
``steps.{Name}:trigger:{i}`` and its conditions (``condition=c`` or ``condition=[c1, c2, ...]``)
as ``steps.{Name}:trigger:{i}:condition``, ``...:condition:1``, ``...:condition:2``, ... bound
with ``registercondition`` in that order, so the engine stops at the first false one — the same
paths the Node Motia uses.

What each function is registered with (the convention ``/__motia/openapi.json`` reads) is in
:mod:`motia.registration`.

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
from .registration import (
    condition_path,
    function_path,
    function_registration,
    relative,
)
from .runtime import get_bridge, get_guard
from .triggers import StepConfig, trigger_config

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


def _previous(target: Bridge, name: str, file: str) -> Step | None:
    for step in _steps:
        if step.bridge is target and step.config.name == name:
            if os.path.abspath(step.file) != os.path.abspath(file):
                other = relative(step.file)
                raise MotiaConfigError(
                    f'{relative(file)}: step name "{name}" is already used by {other}'
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
        guard.claim(config.name, relative(file))
    step = Step(config, file, handler, bridge=target)
    for index, trigger in enumerate(config.triggers):
        path = function_path(config.name, index)
        fields = function_registration(config, index, trigger, file)
        step.functions.append(
            target.register_function(
                path,
                invoker(target, config, index, trigger, path, handler),
                description=fields.get("description"),
                request_format=fields.get("request_format"),
                response_format=fields.get("response_format"),
                metadata=fields["metadata"],
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
