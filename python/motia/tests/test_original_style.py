"""Step files written for the original Motia for Python run unchanged (issue 13, items 16-18)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from iii import Bridge
from iii.testing import EngineProcess, http_json, run_process
from motia import (
    ApiRequest,
    ApiResponse,
    EventTrigger,
    FlowContext,
    StepConfig,
    TriggerInput,
)

FIXTURE = Path(__file__).parent / "fixtures" / "original"


def test_types_are_subscriptable() -> None:
    """ApiRequest, ApiResponse, FlowContext, TriggerInput and StepConfig take a parameter."""
    for generic in (ApiRequest, ApiResponse, FlowContext, TriggerInput, StepConfig):
        assert generic[dict[str, Any]] is not None  # type: ignore[index]
    config = StepConfig[Any](name="G", triggers=[EventTrigger(topic="t")])
    assert isinstance(config, StepConfig)
    assert ApiResponse[dict[str, Any]](status=201, body={"a": 1}).status == 201


def test_subscribes_and_conditions_spellings() -> None:
    """subscribes=[...] means its first topic; conditions=[...] is condition=[...]."""
    trigger = EventTrigger(subscribes=["first", "second"], conditions=[lambda i, c: True])
    assert (trigger.topic, len(trigger.conditions)) == ("first", 1)
    with pytest.raises(ValueError, match="subscribes"):
        EventTrigger(subscribes=[])
    with pytest.raises(ValueError, match="not both"):
        EventTrigger(topic="a", condition=lambda i, c: True, conditions=[lambda i, c: True])


async def _wait_state(bridge: Bridge, group: str, item: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await bridge.invoke_function("state.get", {"group_id": group, "item_id": item})
        if value is not None:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"state {group}/{item} never set")


async def test_original_fixture_runs_and_names_the_files_that_fail(engine: EngineProcess) -> None:
    """motia run serves the good files of the original-style fixture and names the bad ones."""
    cmd = [sys.executable, "-m", "motia", "run", str(FIXTURE)]
    env = {"III_BRIDGE_URL": engine.bridge_url}
    with run_process(cmd, ready="motia ready", env=env) as proc:
        output = proc.text()
        assert "steps/broken_step.py: RuntimeError: broken on purpose (line 3)" in output
        assert "steps/bad_config_step.py" in output and "path" in output
        assert "2 file(s) could not be loaded" in output
        url = f"{engine.api_url}/original/orders"
        ok = http_json("POST", url, {"user": {"verified": True}, "amount": 5})
        assert ok.status == 200
        assert ok.body == {
            "data": {"user": {"verified": True}, "amount": 5},
            "trigger": ["api", "POST", "/original/orders"],
            "has_request": True,
            "is_api": True,
            "get_data": {"user": {"verified": True}, "amount": 5},
        }
        refused = http_json("POST", url, {"user": {"verified": False}})
        assert (refused.status, refused.body["error"]) == (422, "condition_failed")

        async with Bridge(engine.bridge_url) as bridge:
            for order in ({"id": 1, "amount": 50}, {"id": 2, "amount": 5000}):
                await bridge.invoke_function(
                    "emit", {"topic": "original.order.created", "data": order}
                )
            stored = await _wait_state(bridge, "original-orders", "2")
            assert stored == {"topic": "original.order.created"}
            assert (
                await bridge.invoke_function(
                    "state.get", {"group_id": "original-orders", "item_id": "1"}
                )
                is None
            )

            await bridge.invoke_function(
                "state.set", {"group_id": "original-watched", "item_id": "w1", "data": 1}
            )
            await bridge.invoke_function(
                "streams.set",
                {"stream_name": "original_todos", "group_id": "inbox", "item_id": "t1", "data": {}},
            )
            await bridge.invoke_function(
                "streams.set",
                {"stream_name": "original_todos", "group_id": "other", "item_id": "t2", "data": {}},
            )
            assert await _wait_state(bridge, "original-seen", "state:w1") == {
                "event_type": "created"
            }
            assert await _wait_state(bridge, "original-seen", "stream:t1") == {
                "event": "create",
                "stream": "original_todos",
            }
            assert (
                await bridge.invoke_function(
                    "state.get", {"group_id": "original-seen", "item_id": "stream:t2"}
                )
                is None
            )


def test_run_strict_refuses_a_failing_file(engine: EngineProcess) -> None:
    """With --strict, one file that fails ends motia run with exit code 1."""
    cmd = [sys.executable, "-m", "motia", "run", str(FIXTURE), "--strict"]
    with run_process(cmd, env={"III_BRIDGE_URL": engine.bridge_url}) as proc:
        assert proc.process.wait(30) == 1
    assert "broken_step.py" in proc.text()


def test_api_request_reads_as_trigger_input() -> None:
    """req.data, req.request, req.pathParams and req.queryParams are the original's names."""
    req: ApiRequest[dict[str, int]] = ApiRequest.from_payload(
        {"method": "GET", "path": "/p/:id", "path_params": {"id": "1"}, "query_params": {"q": "x"}}
    )
    req.body = {"n": 1}
    assert req.data == {"n": 1} and req.request is req
    assert (req.pathParams, req.queryParams) == ({"id": "1"}, {"q": "x"})
    assert isinstance(ApiResponse(200, req.data), ApiResponse)
