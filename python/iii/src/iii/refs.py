"""Handles returned by the registration methods; each can undo its registration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """A registered function."""

    function_path: str
    _unregister: Callable[[], None] = field(repr=False, compare=False)

    def unregister(self) -> None:
        """Remove the function (and tell the engine when connected)."""
        self._unregister()


@dataclass(frozen=True, slots=True)
class TriggerRef:
    """A registered trigger."""

    id: str
    trigger_type: str
    function_path: str
    config: dict[str, Any]
    _unregister: Callable[[], None] = field(repr=False, compare=False)

    def unregister(self) -> None:
        """Remove the trigger (and tell the engine when connected)."""
        self._unregister()


@dataclass(frozen=True, slots=True)
class TriggerTypeRef:
    """A trigger type this worker owns."""

    id: str
    _unregister: Callable[[], None] = field(repr=False, compare=False)

    def unregister(self) -> None:
        """Give up the trigger type (and tell the engine when connected)."""
        self._unregister()


@dataclass(frozen=True, slots=True)
class ConditionRef:
    """A condition binding (``function_path`` runs ``condition_function_path`` first)."""

    function_path: str
    condition_function_path: str
    _unregister: Callable[[], None] = field(repr=False, compare=False)

    def unregister(self) -> None:
        """Remove the binding: sent at once when connected, never replayed. Twice is safe."""
        self._unregister()
