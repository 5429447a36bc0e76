"""Process-wide runtime state: the default bridge, the project and its identity, the guard.

The bridge is created lazily from ``III_BRIDGE_URL``. The runner (``motia-py run``/``dev``)
sets the project root (step files are named relative to it), the app identity registered in
``metadata.motia`` and the :class:`~motia.guard.StepGuard` that refuses step names another
project holds; a program calling ``step_wrapper`` itself gets the current folder as its
identity and no guard.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from iii import Bridge

if TYPE_CHECKING:
    from .guard import AppIdentity, StepGuard

_bridge: Bridge | None = None
_root: Path | None = None
_identity: AppIdentity | None = None
_guard: StepGuard | None = None


def get_bridge() -> Bridge:
    """The process-wide bridge (``Bridge(name="motia-python")``), created on first use."""
    global _bridge
    if _bridge is None:
        _bridge = Bridge(name="motia-python")
    return _bridge


def set_bridge(bridge: Bridge | None) -> None:
    """Use ``bridge`` as the default (``None`` resets it; the next use creates a new one)."""
    global _bridge
    if bridge is not None and not isinstance(bridge, Bridge):
        raise TypeError(f"set_bridge expects an iii.Bridge, got {type(bridge).__name__}")
    _bridge = bridge


def project_root() -> Path | None:
    """The project folder the runner serves, or ``None``."""
    return _root


def get_identity() -> AppIdentity:
    """The app identity registered with every step (see :mod:`motia.guard`)."""
    global _identity
    if _identity is None:
        from .guard import AppIdentity

        _identity = AppIdentity.for_project(_root)
    return _identity


def get_guard() -> StepGuard | None:
    """The guard checking step names against the engine, when a runner installed one."""
    return _guard


def configure(*, root: Path | None, identity: AppIdentity | None, guard: StepGuard | None) -> None:
    """Set the project, its identity and the guard (the runner does; ``None`` resets)."""
    global _root, _identity, _guard
    _root = root
    _identity = identity
    _guard = guard
