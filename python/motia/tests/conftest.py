"""Fixtures: a real engine process, and a fresh bridge made the default for each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

import motia
from iii import Bridge
from iii.testing import EngineProcess

REPO = Path(__file__).resolve().parents[3]
ENGINE_CLI = REPO / "packages" / "engine" / "bin" / "iii.js"


@pytest.fixture(scope="session")
def engine() -> Iterator[EngineProcess]:
    """One engine shared by the tests of a session."""
    with EngineProcess.start(ENGINE_CLI) as proc:
        yield proc


@pytest.fixture
async def bridge(engine: EngineProcess) -> AsyncIterator[Bridge]:
    """A bridge (not yet connected) installed as motia's default; disconnected afterwards."""
    b = Bridge(engine.bridge_url)
    motia.set_bridge(b)
    yield b
    await b.disconnect()
    motia.set_bridge(None)
