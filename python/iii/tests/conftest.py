"""Fixtures: a real engine process per test session (and fresh ones where a test needs it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from iii.testing import EngineProcess

REPO = Path(__file__).resolve().parents[3]
ENGINE_CLI = REPO / "packages" / "engine" / "bin" / "iii.js"


@pytest.fixture(scope="session")
def engine() -> Iterator[EngineProcess]:
    """One engine shared by the tests of a session."""
    with EngineProcess.start(ENGINE_CLI) as proc:
        yield proc
