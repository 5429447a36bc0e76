"""The logger stamps records with the running call's trace id."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from iii import Bridge, Logger, TraceIdFilter, current_trace_id
from iii.testing import EngineProcess


async def test_logger_uses_trace_id_of_the_call(
    engine: EngineProcess, caplog: pytest.LogCaptureFixture
) -> None:
    """Records logged inside a handler carry its trace id, and exc_info adds the traceback."""
    caplog.set_level(logging.INFO, logger="iii")
    log = Logger()
    async with Bridge(engine.bridge_url) as bridge:

        async def handler(data: Any) -> str | None:
            log.info("working", {"step": 1})
            try:
                raise KeyError("missing")
            except KeyError:
                log.error("failed", exc_info=True)
            return current_trace_id()

        bridge.register_function("log.handler", handler)
        await bridge.flush()
        trace_id = await bridge.invoke_function("log.handler", {})
    records = [
        r
        for r in caplog.records
        if r.name == "iii" and r.getMessage().endswith(("working {'step': 1}", "failed"))
    ]
    assert len(records) == 2
    assert all(getattr(r, "trace_id", None) == trace_id for r in records)
    assert records[0].data == {"step": 1}  # type: ignore[attr-defined]
    assert records[1].exc_info is not None and records[1].exc_info[0] is KeyError
    assert trace_id[:8] in records[0].getMessage()


def test_logger_outside_a_call_and_filter() -> None:
    """Outside a call the trace id is unset; TraceIdFilter gives foreign records one."""
    assert Logger().trace_id is None
    assert Logger(trace_id="abc").trace_id == "abc"
    record = logging.LogRecord("other", logging.INFO, __file__, 1, "msg", None, None)
    assert TraceIdFilter().filter(record)
    assert record.trace_id == "-"  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="name must be a str"):
        Logger(3)  # type: ignore[arg-type]


async def _engine_record(
    engine: EngineProcess, match: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The first JSON line the engine printed on stdout that ``match`` accepts (waits 5 s)."""
    for _ in range(100):
        for line in list(engine.output):
            if line.startswith("{"):
                record = json.loads(line)
                if match(record):
                    return record  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError("no such logger.log line on the engine's stdout")


async def test_logger_forwards_records_to_engine_logger_log(
    engine: EngineProcess, caplog: pytest.LogCaptureFixture
) -> None:
    """A record logged in a handler reaches the engine's stdout with its trace id, redacted.

    Records of a Logger(forward=False) and of a Bridge(forward_logs=False) stay local.
    """
    caplog.set_level(logging.INFO, logger="iii")
    log = Logger()
    quiet = Logger(forward=False)
    async with (
        Bridge(engine.bridge_url) as bridge,
        Bridge(engine.bridge_url, forward_logs=False) as silent,
    ):

        def off_handler(data: Any) -> None:
            log.info("fwd-from-silent-bridge")

        async def handler(data: Any) -> str | None:
            quiet.info("fwd-quiet-logger")
            log.info("fetching https://x.test/a?token=abc123&x=1", {"password": "hunter2", "n": 1})
            return current_trace_id()

        silent.register_function("fwd.off", off_handler)
        bridge.register_function("fwd.handler", handler)
        await silent.flush()
        await bridge.flush()
        await bridge.invoke_function("fwd.off", {})
        trace_id = await bridge.invoke_function("fwd.handler", {})
        bridge.logger.warning("fwd outside a handler", {"api_key": "k"})
        record = await _engine_record(engine, lambda r: r.get("trace_id") == trace_id)
        outside = await _engine_record(engine, lambda r: r["message"] == "fwd outside a handler")
    assert record["level"] == "info"
    assert record["function_path"] == "fwd.handler"
    assert record["message"] == "fetching https://x.test/a?token=[redacted]&x=1"
    assert record["data"] == {"password": "[redacted]", "n": 1}
    assert outside["level"] == "warn" and outside["data"] == {"api_key": "[redacted]"}
    assert "trace_id" not in outside
    printed = "\n".join(engine.output)
    assert "fwd-quiet-logger" not in printed
    assert "fwd-from-silent-bridge" not in printed
    # the local record is redacted too, and still there for the off switches
    local = [r.getMessage() for r in caplog.records if r.name == "iii"]
    assert any("token=[redacted]" in m and "hunter2" not in m for m in local)
    assert any(m.endswith("fwd-quiet-logger") for m in local)
    assert any(m.endswith("fwd-from-silent-bridge") for m in local)
