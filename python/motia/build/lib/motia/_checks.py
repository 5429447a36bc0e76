"""Argument checks shared by the motia public API."""

from __future__ import annotations

from typing import Any


def check_id(name: str, value: Any) -> None:
    """Require a non-empty ``str``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must not be empty")
