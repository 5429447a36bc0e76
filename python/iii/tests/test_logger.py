"""The logger stamps records with the running call's trace id."""

from __future__ import annotations

import logging
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
