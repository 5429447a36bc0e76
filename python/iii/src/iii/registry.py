"""What a worker has registered, kept so that every registration is replayed on reconnect."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .messages import (
    Message,
    RegisterCondition,
    RegisterFunction,
    RegisterService,
    RegisterTrigger,
    RegisterTriggerType,
)

Handler = Callable[[Any], Any]
"""A function handler: takes the call's ``data``, returns (or awaits to) a JSON value."""

TriggerCallback = Callable[[RegisterTrigger], Awaitable[None] | None]


@dataclass(slots=True)
class TriggerTypeHandlers:
    """Callbacks of a worker-owned trigger type; raise in ``on_register`` to refuse a trigger."""

    on_register: TriggerCallback | None = None
    on_unregister: Callable[[str], Awaitable[None] | None] | None = None


@dataclass(slots=True)
class Registry:
    """Functions, triggers, conditions, trigger types and services, in registration order."""

    functions: dict[str, tuple[RegisterFunction, Handler]] = field(default_factory=dict)
    triggers: dict[str, RegisterTrigger] = field(default_factory=dict)
    conditions: list[RegisterCondition] = field(default_factory=list)
    trigger_types: dict[str, tuple[RegisterTriggerType, TriggerTypeHandlers]] = field(
        default_factory=dict
    )
    services: dict[str, RegisterService] = field(default_factory=dict)

    def add_condition(self, msg: RegisterCondition) -> bool:
        """Record a condition binding; ``False`` when that exact binding exists already."""
        key = (msg.function_path, msg.condition_function_path)
        if any((c.function_path, c.condition_function_path) == key for c in self.conditions):
            return False
        self.conditions.append(msg)
        return True

    def remove_condition(self, function_path: str, condition_function_path: str) -> bool:
        """Forget a condition binding; ``False`` when there was none."""
        key = (function_path, condition_function_path)
        for i, c in enumerate(self.conditions):
            if (c.function_path, c.condition_function_path) == key:
                del self.conditions[i]
                return True
        return False

    def replay(self) -> list[Message]:
        """Every registration frame, by type in the order of ``protocol/sdk-cases.json``
        (services, trigger types, functions, conditions, triggers; the Node SDK's too), and
        within one type in registration order.

        Each frame only names things sent before it, and conditions come before triggers so
        that no trigger fires before its conditions are bound.
        """
        frames: list[Message] = []
        frames.extend(self.services.values())
        frames.extend(msg for msg, _ in self.trigger_types.values())
        frames.extend(msg for msg, _ in self.functions.values())
        frames.extend(self.conditions)
        frames.extend(self.triggers.values())
        return frames
