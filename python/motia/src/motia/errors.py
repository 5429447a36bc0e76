"""Errors motia raises when a project cannot be used as written."""

from __future__ import annotations


class MotiaConfigError(ValueError):
    """A step file that cannot be used; the message names the file, the step and the field."""
