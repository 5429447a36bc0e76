"""`motia run <folder>`: finds step files, serves them, fails clearly on bad folders."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from iii import Bridge
from iii.testing import EngineProcess, http_json, run_process
from motia.cli import find_step_files

STEP = """
from motia import ApiResponse, ApiTrigger, StepConfig, step_wrapper
from helper import GREETING

config = StepConfig(name="{name}", triggers=[ApiTrigger(path="/{route}", method="GET")])

def handler(req, ctx):
    return ApiResponse(status=200, body={{"greeting": GREETING, "step": "{name}"}})

step_wrapper(config, __file__, handler)
"""


def _write_app(root: Path) -> None:
    (root / "helper.py").write_text('GREETING = "hi"\n')
    (root / "hello_step.py").write_text(STEP.format(name="Hello", route="hello"))
    (root / "nested").mkdir()
    (root / "nested" / "bye.step.py").write_text(STEP.format(name="Bye", route="bye"))
    (root / "nested" / "stepper.py").write_text("raise SystemExit('must not be imported')\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "stale_step.py").write_text("raise SystemExit('skipped')\n")


def test_find_step_files(tmp_path: Path) -> None:
    """Only *_step.py and *.step.py files are step files; caches are skipped."""
    _write_app(tmp_path)
    names = [p.relative_to(tmp_path).as_posix() for p in find_step_files(tmp_path)]
    assert names == ["hello_step.py", "nested/bye.step.py"]


def test_run_serves_every_step(engine: EngineProcess, tmp_path: Path) -> None:
    """motia run imports both step styles (with local imports) and serves their routes."""
    _write_app(tmp_path)
    cmd = [sys.executable, "-m", "motia", "run", str(tmp_path)]
    env = {"III_BRIDGE_URL": engine.bridge_url}
    with run_process(cmd, ready="motia ready", env=env):
        hello = http_json("GET", f"{engine.api_url}/hello")
        bye = http_json("GET", f"{engine.api_url}/bye")
    assert (hello.status, hello.body) == (200, {"greeting": "hi", "step": "Hello"})
    assert (bye.status, bye.body) == (200, {"greeting": "hi", "step": "Bye"})


def test_run_fails_clearly(tmp_path: Path) -> None:
    """No step files, or a step file that raises, end motia run with exit code 1."""
    cmd = [sys.executable, "-m", "motia", "run", str(tmp_path)]
    with run_process(cmd) as proc:
        assert proc.process.wait(20) == 1
    assert "no step files" in proc.text()
    (tmp_path / "broken_step.py").write_text("raise RuntimeError('broken on purpose')\n")
    with run_process(cmd) as proc:
        assert proc.process.wait(20) == 1
    assert "broken_step.py" in proc.text() and "broken on purpose" in proc.text()


def test_a_step_whose_trigger_is_refused_is_not_loaded(
    engine: EngineProcess, tmp_path: Path
) -> None:
    """A bad cron expression: the engine's reason is named, the step is not said to be loaded."""
    (tmp_path / "helper.py").write_text('GREETING = "hi"\n')
    (tmp_path / "hello_step.py").write_text(STEP.format(name="CliFine", route="cli/fine"))
    (tmp_path / "cron_step.py").write_text(
        "from motia import CronTrigger, StepConfig, step_wrapper\n"
        'config = StepConfig(name="CliBadCron", triggers=[CronTrigger(expression="every day")])\n'
        "step_wrapper(config, __file__, lambda payload, ctx: None)\n"
    )
    cmd = [sys.executable, "-m", "motia", "run", str(tmp_path)]
    with run_process(cmd, ready="motia ready", env={"III_BRIDGE_URL": engine.bridge_url}) as proc:
        text = proc.text()
        assert (
            'cron_step.py: step "CliBadCron": the engine refused its trigger 0 (cron): '
            "invalid_trigger: cron expression"
        ) in text
        assert "loaded step CliBadCron" not in text
        assert "loaded step CliFine (hello_step.py)" in text
        assert http_json("GET", f"{engine.api_url}/cli/fine").status == 200


SCHEMA_STEP = """
from pydantic import BaseModel

from motia import ApiResponse, ApiTrigger, StepConfig, step_wrapper


class Item(BaseModel):
    name: str


class Query(BaseModel):
    page: int = 1


config = StepConfig(
    name="CliDescribed",
    description="Adds an item",
    triggers=[
        ApiTrigger(
            path="/cli/items", method="POST", body_schema=Item, query_schema=Query,
            response_schema={201: Item},
        )
    ],
    flows=["items"],
)
step_wrapper(config, __file__, lambda req, ctx: ApiResponse(201, req.body))
"""


async def test_describe_matches_what_the_engine_lists(
    engine: EngineProcess, tmp_path: Path
) -> None:
    """motia-py describe gives, without an engine, the records the running steps register."""
    (tmp_path / "items_step.py").write_text(SCHEMA_STEP)
    with run_process([sys.executable, "-m", "motia", "describe", str(tmp_path)]) as proc:
        assert proc.process.wait(20) == 0
    described = json.loads(proc.text())
    [fn] = described["functions"]
    assert fn["request_format"]["properties"] == {"name": {"title": "Name", "type": "string"}}
    assert fn["response_format"]["201"]["title"] == "Item"
    cmd = [sys.executable, "-m", "motia", "run", str(tmp_path)]
    with run_process(cmd, ready="motia ready", env={"III_BRIDGE_URL": engine.bridge_url}):
        async with Bridge(engine.bridge_url) as bridge:
            functions = await bridge.invoke_function("engine.functions.list", {})
            triggers = await bridge.invoke_function("engine.triggers.list", {})
    [listed] = [f for f in functions["functions"] if f["function_path"] == fn["function_path"]]
    live, offline = listed["metadata"]["motia"], fn["metadata"]["motia"]
    for key in ("instance", "pid"):  # they name the process, which differs
        assert live.pop(key) != offline.pop(key)
    assert live == offline
    assert offline["query_schema"]["properties"]["page"]["type"] == "integer"
    [trigger] = [t for t in triggers["triggers"] if t["function_path"] == fn["function_path"]]
    assert {k: trigger[k] for k in ("trigger_type", "config")} == {
        "trigger_type": described["triggers"][0]["trigger_type"],
        "config": described["triggers"][0]["config"],
    }
