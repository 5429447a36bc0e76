"""Fixtures for the Python examples: a real engine and a way to run example processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from iii.testing import EngineProcess

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ENGINE_CLI = REPO / "packages" / "engine" / "bin" / "iii.js"


@pytest.fixture(scope="module")
def engine() -> Iterator[EngineProcess]:
    """One engine per test module."""
    with EngineProcess.start(ENGINE_CLI) as proc:
        yield proc
