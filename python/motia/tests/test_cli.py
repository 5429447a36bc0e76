"""`motia run <folder>`: finds step files, serves them, fails clearly on bad folders."""

from __future__ import annotations

import sys
from pathlib import Path

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
