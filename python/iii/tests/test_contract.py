"""The SDK contract shared with the Node SDK: every case of protocol/sdk-cases.json, read here
at test time, run against the real SDK over real sockets (the engine process, or the ``wire``
WebSocket server where the exact frames matter). The error vocabulary of protocol/errors.json
is checked in test_contract_errors.py.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import itertools
import json
import logging
from pathlib import Path
from typing import Any

import pytest

import iii
from iii import Bridge, BridgeClosedError, IIIError, Logger
from iii.errors import ERROR_CLASSES
from iii.logger import REDACTED, SECRET_KEYS, SECRET_QUERY_PARAMS
from iii.testing import EngineProcess
from iii.transport import Transport, backoff_delay

REPO = Path(__file__).resolve().parents[3]
PROTOCOL = REPO / "protocol"
CASES: dict[str, Any] = json.loads((PROTOCOL / "sdk-cases.json").read_text())
CATALOGUE: dict[str, dict[str, Any]] = {
    e["code"]: e for e in json.loads((PROTOCOL / "errors.json").read_text())["errors"]
}
THROWN = [c for c in CASES["thrown_errors"]["cases"] if "python" in c.get("languages", ["python"])]
REDACTION = CASES["redaction"]
BACKOFF = CASES["backoff"]


def sdk_code(code: str) -> str:
    """``code`` after checking the catalogue lists it as one an SDK raises."""
    assert "sdk" in CATALOGUE[code]["raised_by"], f"{code} is not an SDK code in errors.json"
    return code


def _raise(case: dict[str, Any]) -> Any:
    throw = case["throw"]

    async def handler(data: Any) -> None:
        if throw["kind"] == "coded":
            raise IIIError(throw["message"], code=throw["code"])
        raise RuntimeError(throw["message"])

    return handler


# ----- replay order ---------------------------------------------------------------------------


def _register_scrambled(bridge: Bridge, n: int) -> None:
    """One registration of each kind, in the reverse of the replay order."""
    bridge.register_trigger("event", f"c.fn{n}", {"topic": f"c.topic{n}"}, id=f"c.trigger{n}")
    bridge.register_condition(f"c.fn{n}", f"c.cond{n}")
    bridge.register_function(f"c.fn{n}", lambda data: data)
    bridge.register_trigger_type(f"c.type{n}")
    bridge.register_service(f"c.svc{n}")


def _key(frame: dict[str, Any]) -> str:
    return str(frame.get("id") or frame.get("function_path"))


async def test_replay_order_after_reconnect(wire: Any) -> None:
    """Registrations go out by type in the contract's order, then in registration order, and
    before anything queued, on the first connection and again after a reconnect."""
    order = CASES["replay_order"]["order"]
    expected_types = [t for t in order for _ in range(2)]
    bridge = Bridge(wire.url, reconnect_initial_delay=0.02, reconnect_max_delay=0.05)
    _register_scrambled(bridge, 1)
    _register_scrambled(bridge, 2)
    await bridge.connect()
    try:
        first = wire.connections[0][: len(expected_types)]
        assert [f["type"] for f in first] == expected_types
        await wire.stop()
        for _ in range(200):
            if not bridge.connected:
                break
            await asyncio.sleep(0.01)
        assert not bridge.connected
        bridge.invoke_function_async("c.queued", {"n": 1})
        await wire.start()
        await wire.wait_for(lambda f: f.get("function_path") == "c.queued", connection=1)
        frames = wire.connections[1]
        replay = frames[: len(expected_types)]
        assert [f["type"] for f in replay] == expected_types
        for kind in order:
            keys = [_key(f) for f in replay if f["type"] == kind]
            assert [k[-1] for k in keys] == ["1", "2"], keys
        assert frames[len(expected_types)]["function_path"] == "c.queued"
    finally:
        await bridge.disconnect()


# ----- thrown errors --------------------------------------------------------------------------


@pytest.mark.parametrize("case", THROWN, ids=[c["name"] for c in THROWN])
async def test_thrown_error_in_the_invocationresult(wire: Any, case: dict[str, Any]) -> None:
    """The invocationresult a raising handler produces carries exactly the contract's error."""
    async with Bridge(wire.url) as bridge:
        bridge.register_function("c.throw", _raise(case))
        await bridge.flush()
        await wire.send(
            {"type": "invokefunction", "invocation_id": "c-1", "function_path": "c.throw"}
        )
        result = await wire.wait_for(lambda f: f["type"] == "invocationresult")
    assert result["invocation_id"] == "c-1"
    assert result["error"] == case["error"]
    assert "result" not in result or result["result"] is None


@pytest.mark.parametrize("case", THROWN, ids=[c["name"] for c in THROWN])
async def test_thrown_error_reaches_the_caller(engine: EngineProcess, case: dict[str, Any]) -> None:
    """Through the engine, a caller gets the same code and message (an IIIError subclass)."""
    async with Bridge(engine.bridge_url) as worker, Bridge(engine.bridge_url) as caller:
        worker.register_function("c.thrown", _raise(case))
        await worker.flush()
        with pytest.raises(IIIError) as info:
            await caller.invoke_function("c.thrown", {}, timeout=5)
    assert {"code": info.value.code, "message": info.value.message} == case["error"]
    assert isinstance(info.value, ERROR_CLASSES.get(case["error"]["code"], IIIError))


# ----- redaction ------------------------------------------------------------------------------


def test_secret_lists_are_the_contracts() -> None:
    """The SDK redacts exactly the contract's keys and query parameters, with its replacement."""
    assert set(REDACTION["secret_keys"]) == SECRET_KEYS
    assert set(REDACTION["secret_query_params"]) == set(SECRET_QUERY_PARAMS)
    assert REDACTION["replacement"] == REDACTED
    for key in REDACTION["secret_keys"]:
        for spelled in (key, key.upper(), key.title()):
            assert iii.logger.redact({spelled: "v", "other": "v"}) == {
                spelled: REDACTED,
                "other": "v",
            }
    for param in REDACTION["secret_query_params"]:
        text = f"https://h/p?x=1&{param}=s3cret&y=2"
        assert iii.logger.redact(text) == f"https://h/p?x=1&{param}={REDACTED}&y=2"


@pytest.mark.parametrize("case", REDACTION["cases"], ids=[c["name"] for c in REDACTION["cases"]])
async def test_redaction_of_logged_and_forwarded_records(
    wire: Any, case: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """What the logger writes locally and forwards to logger.log is the contract's output."""
    caplog.set_level(logging.INFO, logger="c.redaction")
    original = copy.deepcopy(case["input"])
    is_text = isinstance(case["input"], str)
    async with Bridge(wire.url) as bridge:
        log = Logger("c.redaction", bridge=bridge)
        if is_text:
            log.warning(case["input"])
        else:
            log.warning("c.redaction", case["input"])
        sent = await wire.wait_for(lambda f: f.get("function_path") == "logger.log")
    record = sent["data"]
    if is_text:
        assert record["message"] == case["output"]
        assert caplog.records[-1].getMessage() == case["output"]
    else:
        assert record["data"] == case["output"]
        assert caplog.records[-1].data == case["output"]  # type: ignore[attr-defined]
    assert case["input"] == original  # the caller's value is not changed


# ----- backoff --------------------------------------------------------------------------------


def _transport(initial_ms: float, max_ms: float) -> Transport:
    return Transport(
        "ws://127.0.0.1:1",
        on_open=list,
        on_text=lambda text: None,
        on_close=lambda: None,
        connect_timeout=60.0,
        reconnect=True,
        reconnect_initial_delay=initial_ms / 1000,
        reconnect_max_delay=max_ms / 1000,
    )


def test_backoff_defaults_are_the_contracts() -> None:
    """Bridge's default reconnect delays are the contract's defaults."""
    params = inspect.signature(Bridge).parameters
    defaults = BACKOFF["defaults"]
    assert params["reconnect_initial_delay"].default * 1000 == defaults["initial_ms"]
    assert params["reconnect_max_delay"].default * 1000 == defaults["max_ms"]


@pytest.mark.parametrize("case", BACKOFF["cases"], ids=lambda c: f"attempt{c['attempt']}")
async def test_backoff_stays_in_the_contracts_bounds(case: dict[str, Any]) -> None:
    """Over many draws every delay is within [min, max] of the case, spread across it; the
    transport's reconnect schedule (what websockets sleeps) follows the same rule."""
    low, high = case["min_ms"], case["max_delay_ms"]
    draws = [
        1000
        * backoff_delay(
            case["attempt"], initial=case["initial_ms"] / 1000, maximum=case["max_ms"] / 1000
        )
        for _ in range(2000)
    ]
    assert all(low - 1e-6 <= d <= high + 1e-6 for d in draws)
    spread = (high - low) / 10
    assert min(draws) < low + spread and max(draws) > high - spread
    transport = _transport(case["initial_ms"], case["max_ms"])
    for _ in range(200):
        delays = transport.reconnect_delays()
        for _ in range(case["attempt"]):
            next(delays)
        assert low - 1e-6 <= 1000 * next(delays) <= high + 1e-6


async def test_reconnect_attempts_are_spaced_by_the_backoff() -> None:
    """Against a socket that accepts and hangs up, attempts come at the contract's delays; a
    connect() still waiting when disconnect() is called fails with bridge_closed."""
    loop = asyncio.get_running_loop()
    attempts: list[float] = []

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        attempts.append(loop.time())
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    bridge = Bridge(
        f"ws://127.0.0.1:{port}",
        connect_timeout=30,
        reconnect_initial_delay=0.2,
        reconnect_max_delay=0.4,
    )
    connecting = asyncio.create_task(bridge.connect())
    try:
        for _ in range(400):
            if len(attempts) >= 4:
                break
            await asyncio.sleep(0.01)
        await bridge.disconnect()
        with pytest.raises(BridgeClosedError) as info:
            await connecting
        assert info.value.code == sdk_code("bridge_closed")
    finally:
        server.close()
        await server.wait_closed()
    gaps = [(b - a) * 1000 for a, b in itertools.pairwise(attempts)][:3]
    assert len(gaps) == 3
    bounds = [(100, 200), (200, 400), (200, 400)]  # attempts 0, 1, 2 with 200 ms / 400 ms
    for gap, (low, high) in zip(gaps, bounds, strict=True):
        assert low - 5 <= gap <= high + 400, gaps  # never early; late only by scheduling


# ----- a missing result -----------------------------------------------------------------------


async def test_missing_result_reads_as_none(wire: Any) -> None:
    """An invocationresult with neither result nor error resolves the call with None."""
    case = CASES["missing_result"]

    async def answer(ws: Any, frame: dict[str, Any]) -> None:
        if frame.get("type") == "invokefunction":
            reply = {**case["frame"], "invocation_id": frame["invocation_id"]}
            await ws.send(json.dumps(reply))

    wire.on_frame = answer
    async with Bridge(wire.url) as bridge:
        result = await bridge.invoke_function(case["frame"]["function_path"], {}, timeout=5)
    assert result is case["result"] is None
