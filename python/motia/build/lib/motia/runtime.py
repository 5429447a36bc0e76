"""The default bridge that steps and streams use, created lazily from ``III_BRIDGE_URL``."""

from __future__ import annotations

from iii import Bridge

_bridge: Bridge | None = None


def get_bridge() -> Bridge:
    """The process-wide bridge (``Bridge(name="motia")``), created on first use."""
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
