"""Every Python example of the user guide, run as a real process against a real engine."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from iii import Bridge
from iii.testing import EngineProcess, http_json, run_process

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


def _env(engine: EngineProcess) -> dict[str, str]:
    return {"III_BRIDGE_URL": engine.bridge_url}


def test_basic_usage(engine: EngineProcess) -> None:
    """Basic Usage: POST /my-endpoint reaches my_handler."""
    with run_process([PYTHON, str(HERE / "basic_usage.py")], ready="ready", env=_env(engine)):
        res = http_json("POST", f"{engine.api_url}/my-endpoint", {})
    assert (res.status, res.body) == (200, {"result": "success"})


def test_complete_example(engine: EngineProcess) -> None:
    """Complete example: POST /users answers 201 with the created user."""
    with run_process([PYTHON, str(HERE / "complete_example.py")], ready="ready", env=_env(engine)):
        res = http_json("POST", f"{engine.api_url}/users", {"name": "Alice"})
    assert res.status == 201
    assert isinstance(res.body, dict)
    assert res.body["id"] == "123"
    assert res.body["body"] == {"name": "Alice"}
    assert res.body["method"] == "POST"


def _motia(engine: EngineProcess) -> Any:
    return run_process(
        [PYTHON, "-m", "motia", "run", str(HERE / "steps")], ready="motia ready", env=_env(engine)
    )


def test_middleware_example(engine: EngineProcess) -> None:
    """Middleware: 401 without a token, 401 for a bad one, Hello + X-Request-ID with a good one."""
    with _motia(engine):
        url = f"{engine.api_url}/protected"
        missing = http_json("GET", url)
        bad = http_json("GET", url, headers={"Authorization": "Bearer nope"})
        good = http_json("GET", url, headers={"Authorization": "Bearer secret-token"})
    assert (missing.status, missing.body) == (401, {"error": "Unauthorized"})
    assert (bad.status, bad.body) == (401, {"error": "Invalid token"})
    assert (good.status, good.body) == (200, {"message": "Hello, Alice"})
    assert len(good.headers["x-request-id"]) == 32


def test_request_examples(engine: EngineProcess) -> None:
    """ApiRequest/ApiResponse snippets: path params, query params, body, headers."""
    with _motia(engine):
        base = engine.api_url
        posts = http_json("GET", f"{base}/users/123/posts/456")
        listing = http_json("GET", f"{base}/users?status=active&limit=10")
        created = http_json(
            "POST", f"{base}/users", {"name": "Alice"}, headers={"Authorization": "x"}
        )
    assert posts.status == 200 and isinstance(posts.body, dict)
    assert posts.body["path_params"] == {"userId": "123", "postId": "456"}
    assert posts.headers["x-custom-header"] == "value"
    assert isinstance(listing.body, dict)
    assert listing.body["query_params"] == {"status": "active", "limit": "10"}
    assert isinstance(created.body, dict)
    assert created.body["body"] == {"name": "Alice"}
    assert created.body["message"] == "Success"
    assert created.body["authorization"] == "x"


async def test_condition_examples(engine: EngineProcess) -> None:
    """Conditions: only payments over 1000 and verified users reach the handler."""
    async with Bridge(engine.bridge_url) as bridge:
        passed: asyncio.Queue[Any] = asyncio.Queue()

        async def collect(data: Any) -> None:
            await passed.put(data)

        bridge.register_function("examples.collect", collect)
        bridge.register_trigger("event", "examples.collect", {"topic": "condition.passed"})
        await bridge.flush()
        with _motia(engine):
            for topic, data in [
                ("payment.received", {"amount": 50}),
                ("payment.received", {"amount": 5000}),
                ("user.signup", {"user_id": "u-1"}),
                ("user.signup", {"user_id": "v-2"}),
            ]:
                await bridge.invoke_function("emit", {"topic": topic, "data": data})
            got = [await asyncio.wait_for(passed.get(), 5) for _ in range(2)]
            await asyncio.sleep(0.3)
            assert passed.empty()
    assert sorted(got, key=lambda g: g["topic"]) == [
        {"topic": "payment.received", "data": {"amount": 5000}},
        {"topic": "user.signup", "data": {"user_id": "v-2"}},
    ]


async def test_context_examples(engine: EngineProcess) -> None:
    """FlowContext snippets: emit, trigger info, state, streams and logger with exc_info."""
    async with Bridge(engine.bridge_url) as bridge:
        created: asyncio.Queue[Any] = asyncio.Queue()

        async def on_created(data: Any) -> None:
            await created.put(data)

        bridge.register_function("examples.created", on_created)
        bridge.register_trigger("event", "examples.created", {"topic": "user.created"})
        await bridge.flush()
        with _motia(engine) as worker:
            res = await asyncio.to_thread(http_json, "POST", f"{engine.api_url}/context", {})
            await bridge.invoke_function("emit", {"topic": "context.ping", "data": {}})
            await asyncio.to_thread(worker.wait_for, "Event context.ping")
            assert await asyncio.wait_for(created.get(), 5) == {"id": "123"}
    assert res.status == 200, res.body
    assert isinstance(res.body, dict)
    assert res.body["theme"] == "dark"
    # Stream items come back as they were set (issue 13 item 4: no id is added).
    assert res.body["todo"] == {"title": "Buy milk"}
    assert res.body["trigger"] == {"type": "api", "index": 0}
    text = worker.text()
    assert "API POST /context" in text and "Trigger index: 0" in text
    assert "Trigger index: 1" in text
    assert "Processing started" in text and res.body["trace_id"][:8] in text
    assert "An error occurred" in text and "RuntimeError: example failure" in text


def test_stream_class_example(engine: EngineProcess) -> None:
    """The Stream snippet reads back what Stream.set stored."""
    with run_process([PYTHON, str(HERE / "stream_get.py")], env=_env(engine)) as proc:
        line = proc.wait_for("snippet")
    assert json.loads(line) == {
        "snippet": {"title": "Buy milk"},
        "method": {"title": "Buy milk"},
    }
