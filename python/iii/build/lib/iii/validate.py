"""Argument checks for the public API: wrong types fail at the call with one clear sentence."""

from __future__ import annotations

from typing import Any


def check_str(name: str, value: Any, *, optional: bool = False) -> None:
    """Require a non-empty ``str`` (or ``None`` when ``optional``)."""
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must not be empty")


def check_number(name: str, value: Any) -> None:
    """Require a positive ``int`` or ``float`` (not ``bool``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")


def check_dict(name: str, value: Any) -> None:
    """Require a ``dict``."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict, got {type(value).__name__}")


def check_callable(name: str, value: Any) -> None:
    """Require a callable."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
