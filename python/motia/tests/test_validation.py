"""Wrong input to the motia API fails at the call with a clear error."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from iii import Bridge
from motia import (
    ApiRequest,
    ApiResponse,
    ApiTrigger,
    CronTrigger,
    EventTrigger,
    StepConfig,
    Stream,
    step_wrapper,
)


def test_step_config_requires_name_and_triggers() -> None:
    """StepConfig needs a name without ':' and at least one trigger."""
    with pytest.raises(ValidationError, match="name"):
        StepConfig(name=5, triggers=[EventTrigger(topic="a")])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="name"):
        StepConfig(name="a:b", triggers=[EventTrigger(topic="a")])
    with pytest.raises(ValidationError, match="triggers"):
        StepConfig(name="a", triggers=[])
    with pytest.raises(ValidationError, match="Extra inputs"):
        StepConfig(name="a", triggers=[EventTrigger(topic="a")], unknown_field=1)  # type: ignore[call-arg]


def test_triggers_validate_their_fields() -> None:
    """Paths start with '/', methods are HTTP methods, middleware is callable, topics non-empty."""
    with pytest.raises(ValidationError, match="path"):
        ApiTrigger(path="users", method="GET")
    with pytest.raises(ValidationError, match="method"):
        ApiTrigger(path="/u", method="FETCH")
    with pytest.raises(ValidationError, match="middleware"):
        ApiTrigger(path="/u", middleware=["not callable"])
    with pytest.raises(ValidationError, match="topic"):
        EventTrigger(topic="")
    with pytest.raises(ValidationError, match="expression"):
        CronTrigger(expression=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="condition"):
        EventTrigger(topic="a", condition="yes")  # type: ignore[arg-type]
    assert ApiTrigger(path="/u", method="post").method == "POST"


def test_step_wrapper_checks_its_arguments() -> None:
    """step_wrapper names the argument that is wrong."""
    config = StepConfig(name="Check", triggers=[EventTrigger(topic="a")])
    bridge = Bridge("ws://127.0.0.1:1")
    with pytest.raises(TypeError, match="config must be a StepConfig"):
        step_wrapper("config", __file__, print, bridge=bridge)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="file must be a str"):
        step_wrapper(config, None, print, bridge=bridge)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="handler must be callable"):
        step_wrapper(config, __file__, 42, bridge=bridge)  # type: ignore[arg-type]


def test_api_response_checks_status_and_headers() -> None:
    """ApiResponse takes positional or keyword fields and checks their types."""
    assert ApiResponse(201, {"a": 1}).to_wire() == {"status": 201, "body": {"a": 1}, "headers": {}}
    with pytest.raises(TypeError, match="status must be an int"):
        ApiResponse(status="200")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="100-599"):
        ApiResponse(status=42)
    with pytest.raises(TypeError, match="headers must be a dict"):
        ApiResponse(headers=[("a", "b")])  # type: ignore[arg-type]


def test_api_request_from_engine_payload() -> None:
    """ApiRequest is built from the engine payload; header lookups ignore case."""
    payload: dict[str, Any] = {
        "method": "POST",
        "path": "/users/:id",
        "path_params": {"id": "7"},
        "query_params": {"q": "x"},
        "headers": {"authorization": "Bearer t"},
        "body": {"name": "Alice"},
    }
    req = ApiRequest.from_payload(payload)
    assert (req.method, req.path, req.path_params, req.body) == (
        "POST",
        "/users/:id",
        {"id": "7"},
        {"name": "Alice"},
    )
    assert req.headers.get("Authorization") == "Bearer t"
    assert "AUTHORIZATION" in req.headers


async def test_stream_and_state_check_ids() -> None:
    """Stream and state methods refuse non-string ids before any call is made."""
    with pytest.raises(TypeError, match="stream_name"):
        Stream(3)  # type: ignore[arg-type]
    stream: Stream[dict[str, Any]] = Stream("todos", bridge=Bridge("ws://127.0.0.1:1"))
    with pytest.raises(TypeError, match="group_id"):
        await stream.get(1, "a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="item_id"):
        await stream.set("g", "", {})
