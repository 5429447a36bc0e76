"""One Node `motia dev` runs a folder of `.step.ts` and `_step.py` files (issue 16, item 2).

The Python runtime it starts answers the same 400 body as Node for the same schema, reloads
its changed step files, is restarted when it crashes and ends with `motia dev`, even a killed
one. The repository's `.venv` runs the Python steps (the project has none of its own).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from iii import Bridge
from iii.testing import EngineProcess, HttpResult, http_json, run_process

REPO = Path(__file__).resolve().parents[3]
MOTIA_CLI = REPO / "packages" / "motia" / "bin" / "motia.js"

NODE_STEP = """
import {{ z }} from 'zod'

export const config = {{
  name: 'MixedNode',
  triggers: [{{
    type: 'api', path: '/mixed/node', method: 'POST',
    bodySchema: z.object({{ name: z.string().min(1), age: z.number().int() }}),
  }}],
}}

export const handler = async (req: {{ body: {{ name: string }} }}) =>
  ({{ status: 200, body: {{ from: 'node', hello: req.body.name }} }})
"""

PY_STEP = """
from pydantic import BaseModel, Field

from motia import ApiResponse, ApiTrigger, StepConfig, step_wrapper


class Person(BaseModel):
    name: str = Field(min_length=1)
    age: int


config = StepConfig(
    name="MixedPython",
    triggers=[ApiTrigger(path="/mixed/python", method="POST", body_schema=Person)],
)


async def handler(req, ctx):
    return ApiResponse(200, {{"from": "{version}", "hello": req.body.name}})


step_wrapper(config, __file__, handler)
"""

# A Python step with the Node step's name: refused by the guard, naming the Node half.
DUP_STEP = """
from motia import ApiTrigger, StepConfig, step_wrapper

config = StepConfig(name="MixedNode", triggers=[ApiTrigger(path="/mixed/dup", method="GET")])
step_wrapper(config, __file__, lambda req, ctx: None)
"""


def _post(url: str, body: Any) -> HttpResult:
    return http_json("POST", url, body)


def _until(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _python_pid(engine: EngineProcess) -> int:
    async with Bridge(engine.bridge_url, reconnect=False) as bridge:
        listed = await bridge.invoke_function("engine.functions.list", {})
    for fn in listed["functions"]:
        motia = (fn.get("metadata") or {}).get("motia") or {}
        if motia.get("step") == "MixedPython":
            return int(motia["pid"])
    raise AssertionError("MixedPython is not registered")


def _project(root: Path) -> Path:
    (root / "steps").mkdir(parents=True)
    (root / "node_modules").symlink_to(REPO / "node_modules", target_is_directory=True)
    (root / "package.json").write_text('{"name": "mixed-app", "private": true, "type": "module"}')
    (root / "steps" / "greet.step.ts").write_text(NODE_STEP.format())
    (root / "steps" / "greet_step.py").write_text(PY_STEP.format(version="python"))
    (root / "steps" / "dup_step.py").write_text(DUP_STEP)
    return root


async def test_one_motia_dev_runs_node_and_python_steps(
    engine: EngineProcess, tmp_path: Path
) -> None:
    """Both languages answer through HTTP; same 400 body; reload; restart; stop with the parent."""
    root = _project(tmp_path / "mixed")
    cmd = ["node", str(MOTIA_CLI), "dev", str(root), "--url", engine.bridge_url]
    api = engine.api_url
    with run_process(cmd, ready="[motia-py] ready", timeout=60) as proc:
        proc.wait_for("[motia] ready")
        node = _post(f"{api}/mixed/node", {"name": "Ada", "age": 36})
        python = _post(f"{api}/mixed/python", {"name": "Ada", "age": 36})
        assert (node.status, node.body) == (200, {"from": "node", "hello": "Ada"})
        assert (python.status, python.body) == (200, {"from": "python", "hello": "Ada"})

        for bad in ({}, {"name": "", "age": 1}, {"name": "Ada", "age": "old"}):
            n, p = _post(f"{api}/mixed/node", bad), _post(f"{api}/mixed/python", bad)
            assert n.status == p.status == 400, (bad, n.body, p.body)
            assert n.body["error"] == p.body["error"] == "validation_failed"
            assert n.body["in"] == p.body["in"] == "body"

            def shape(body: dict[str, Any]) -> list[tuple[Any, ...]]:
                return sorted((tuple(i["path"]), i["code"]) for i in body["issues"])

            assert shape(n.body) == shape(p.body), (bad, n.body, p.body)

        assert 'dup_step.py: step "MixedNode" is already registered on the engine' in proc.text()

        (root / "steps" / "greet_step.py").write_text(PY_STEP.format(version="python-v2"))
        _until(
            lambda: (
                _post(f"{api}/mixed/python", {"name": "B", "age": 1}).body.get("from")
                == "python-v2"
            )
        )

        pid = await _python_pid(engine)
        os.kill(pid, signal.SIGKILL)
        proc.wait_for("the Python runtime exited")
        _until(lambda: _post(f"{api}/mixed/python", {"name": "C", "age": 1}).status == 200)
        restarted = await _python_pid(engine)
        assert restarted != pid

        proc.process.send_signal(signal.SIGKILL)  # not even a chance to stop its child
        proc.process.wait(10)
        _until(lambda: not _alive(restarted), timeout=10)


def test_motia_start_uses_the_project_venv(engine: EngineProcess, tmp_path: Path) -> None:
    """`motia start` runs the Python steps with the project's .venv/bin/python (no watching)."""
    root = tmp_path / "venv-app"
    (root / ".venv" / "bin").mkdir(parents=True)
    marker = tmp_path / "used-project-venv"
    wrapper = root / ".venv" / "bin" / "python"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> "{marker}"\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    (root / "only_step.py").write_text(PY_STEP.format(version="venv"))
    cmd = ["node", str(MOTIA_CLI), "start", str(root), "--url", engine.bridge_url]
    with run_process(cmd, ready="[motia-py] ready", timeout=60) as proc:
        answer = _post(f"{engine.api_url}/mixed/python", {"name": "V", "age": 1})
        assert (answer.status, answer.body) == (200, {"from": "venv", "hello": "V"})
        assert "watching" not in proc.text()
    calls = marker.read_text().splitlines()
    assert "-c import motia.project" in calls
    assert any(c.startswith(f"-m motia run {root}") for c in calls)


def test_motia_start_fails_on_a_python_step_that_cannot_load(
    engine: EngineProcess, tmp_path: Path
) -> None:
    """Under `motia start` a broken Python step file fails the start, as a Node one does."""
    root = tmp_path / "broken-app"
    root.mkdir()
    (root / "fine_step.py").write_text(PY_STEP.format(version="fine"))
    (root / "broken_step.py").write_text("raise RuntimeError('not today')\n")
    cmd = ["node", str(MOTIA_CLI), "start", str(root), "--url", engine.bridge_url]
    with run_process(cmd, timeout=60) as proc:
        assert proc.process.wait(60) == 1
    text = proc.text()
    assert "broken_step.py: RuntimeError: not today (line 1)" in text
    assert "the Python runtime exited before it was ready (code 1)" in text
