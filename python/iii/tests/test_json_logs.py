"""III_LOG_FORMAT=json through real processes: a worker process logs the ``json_logs`` cases of
protocol/sdk-cases.json from a handler called over HTTP with a traceparent; every line it prints
is parsed as JSON and checked for the shared fields, trace, span, function, worker and
redaction. The same cases drive packages/sdk/test/json-logs.test.ts."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from iii import Bridge
from iii.testing import EngineProcess, http_json, run_process

REPO = Path(__file__).resolve().parents[3]
SPEC = json.loads((REPO / "protocol" / "sdk-cases.json").read_text())["json_logs"]
WORKER = str(Path(__file__).parent / "fixtures" / "json_log_worker.py")
READY = "json log worker ready"


async def test_json_lines_carry_trace_span_function_worker_and_redact(
    engine: EngineProcess,
) -> None:
    env = {
        "III_BRIDGE_URL": engine.bridge_url,
        SPEC["env"]: "json",
        "III_LOG_LEVEL": "debug",
        "III_WORKER_NAME": "py-json-logger",
    }
    with run_process([sys.executable, WORKER], ready=READY, env=env) as worker:
        async with Bridge(engine.bridge_url) as probe:
            listed = await probe.invoke_function("engine.workers.list", {})
        ids = [w["id"] for w in listed["workers"] if w.get("name") == "py-json-logger"]
        assert len(ids) == 1
        trace_id = "1af7651916cd43dd8448eb211c80319c"
        res = http_json(
            "POST",
            f"{engine.api_url}/jlpy",
            {},
            headers={"traceparent": f"00-{trace_id}-c7ad6b7169203331-01"},
        )
        assert res.status == 200, res.body
        deadline = time.monotonic() + 5
        lines: list[str] = []
        while time.monotonic() < deadline:
            lines = [line for line in list(worker.output) if line and line != READY]
            if len(lines) >= len(SPEC["cases"]):
                break
            time.sleep(0.02)
        parsed: list[dict[str, Any]] = [json.loads(line) for line in lines]  # each one JSON object
        mine = [p for p in parsed if p.get("function_path") == "jl.py.cases"]
        assert len(mine) == len(SPEC["cases"]), parsed
        for case, line in zip(SPEC["cases"], mine, strict=True):
            for f in SPEC["fields"]:
                assert f in line, (case["name"], f, line)
            assert line["trace_id"] == trace_id
            assert isinstance(line["span_id"], str) and len(line["span_id"]) == 16
            assert line["worker_id"] == ids[0]
            assert line["worker_name"] == "py-json-logger"
            assert line["time"].endswith("Z")
            for key, value in case["expect"].items():
                assert line[key] == value, (case["name"], key, line)
        text = worker.text()
        assert "s3cret" not in text
        assert "forged" not in text


def test_log_format_option_is_checked() -> None:
    with pytest.raises(ValueError, match="log_format must be 'text' or 'json'"):
        Bridge(log_format="yaml")
