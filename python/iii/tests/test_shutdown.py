"""Graceful shutdown of a Python worker (R21): on SIGTERM during ``serve_forever`` the worker
takes no new calls (the engine stops routing to it), lets the running handler finish and
answer, disconnects and exits 0; past the grace it disconnects anyway."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import pytest

from iii import Bridge, FunctionNotFoundError, InvocationStoppedError
from iii.testing import EngineProcess, find_engine_cli, run_process

ENGINE_CLI = find_engine_cli(__file__)
WORKER = str(Path(__file__).parent / "fixtures" / "slow_worker.py")


async def _wait_for(child: object, text: str) -> None:
    await asyncio.to_thread(child.wait_for, text)  # type: ignore[attr-defined]


async def _functions(client: Bridge) -> list[str]:
    listed = await client.invoke_function("engine.functions.list", {})
    return [f["function_path"] for f in listed["functions"]]


async def test_sigterm_finishes_the_running_handler_and_takes_no_new_calls() -> None:
    with EngineProcess.start(ENGINE_CLI) as engine:
        env = {"III_BRIDGE_URL": engine.bridge_url, "SLOW_S": "1.0"}
        with run_process([sys.executable, WORKER], ready="connected", env=env) as worker:
            async with Bridge(engine.bridge_url) as client:
                running = asyncio.ensure_future(client.invoke_function("slow.run", "first"))
                await _wait_for(worker, "started first")
                worker.process.send_signal(signal.SIGTERM)
                for _ in range(100):
                    if "slow.run" not in await _functions(client):
                        break
                    await asyncio.sleep(0.02)
                with pytest.raises(FunctionNotFoundError):
                    await client.invoke_function("slow.run", "second")
                assert await running == {"echo": "first"}
                code = await asyncio.to_thread(worker.process.wait, 10)
                assert code == 0
                assert "finished first" in worker.text()
                assert "served" in worker.text()
                assert "started second" not in worker.text()


async def test_sigterm_past_the_grace_cuts_the_handler_off() -> None:
    with EngineProcess.start(ENGINE_CLI) as engine:
        env = {"III_BRIDGE_URL": engine.bridge_url, "SLOW_S": "20", "GRACE_S": "0.3"}
        with run_process([sys.executable, WORKER], ready="connected", env=env) as worker:
            async with Bridge(engine.bridge_url) as client:
                running = asyncio.ensure_future(client.invoke_function("slow.run", "long"))
                await _wait_for(worker, "started long")
                at = time.monotonic()
                worker.process.send_signal(signal.SIGTERM)
                with pytest.raises(InvocationStoppedError):
                    await running
                assert await asyncio.to_thread(worker.process.wait, 10) == 0
                assert time.monotonic() - at < 5
                assert "1 handler(s) still running after 0.3 s" in worker.text()


async def test_sigterm_under_steady_load_fails_no_call() -> None:
    """Calls the engine routed to the leaving worker before it read the unregistration are
    answered by it: with another worker serving the same function, no call fails."""
    with EngineProcess.start(ENGINE_CLI) as engine:
        env = {"III_BRIDGE_URL": engine.bridge_url, "SLOW_S": "0", "QUIET": "1"}
        with (
            run_process([sys.executable, WORKER], ready="connected", env=env) as leaving,
            run_process([sys.executable, WORKER], ready="connected", env=env),
        ):
            async with Bridge(engine.bridge_url) as client:
                answered = 0
                failures: list[str] = []
                stop = False

                async def lane(n: int) -> None:
                    nonlocal answered
                    i = 0
                    while not stop:
                        try:
                            assert await client.invoke_function("slow.run", f"{n}.{i}") == {
                                "echo": f"{n}.{i}"
                            }
                            answered += 1
                        except Exception as exc:
                            failures.append(repr(exc))
                        i += 1

                lanes = [asyncio.ensure_future(lane(n)) for n in range(32)]
                while answered < 1000:
                    await asyncio.sleep(0.01)
                leaving.process.send_signal(signal.SIGTERM)
                assert await asyncio.to_thread(leaving.process.wait, 10) == 0
                before = answered
                while answered < before + 1000:
                    await asyncio.sleep(0.01)
                stop = True
                await asyncio.gather(*lanes)
                assert failures == []
