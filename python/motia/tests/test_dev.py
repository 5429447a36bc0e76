"""motia-py dev: a changed step file is reloaded, a new one loaded, a deleted one removed."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from iii.testing import EngineProcess, HttpResult, http_json, run_process

STEP = """
from motia import ApiResponse, ApiTrigger, StepConfig, step_wrapper
from words import WORD

config = StepConfig(name="{name}", triggers=[ApiTrigger(path="/{route}", method="GET")])

def handler(req, ctx):
    return ApiResponse(status=200, body={{"says": "{says}", "word": WORD}})

step_wrapper(config, __file__, handler)
"""


def _until(url: str, expect: object, timeout: float = 15.0) -> HttpResult:
    """GET ``url`` until its (status, body) is ``expect`` (or its status, for an int)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = http_json("GET", url)
        if (last.status, last.body) == expect or last.status == expect:
            return last
        time.sleep(0.1)
    raise AssertionError(f"{url}: wanted {expect}, last got {last}")


def test_dev_reloads_changed_new_and_deleted_steps(engine: EngineProcess, tmp_path: Path) -> None:
    """Edits of a step file, a new file, a helper module and a deletion reach the engine."""
    (tmp_path / "words.py").write_text('WORD = "one"\n')
    step = tmp_path / "dev_step.py"
    step.write_text(STEP.format(name="DevHot", route="dev/hot", says="v1"))
    cmd = [sys.executable, "-m", "motia", "dev", str(tmp_path)]
    api = engine.api_url
    with run_process(cmd, ready="motia ready", env={"III_BRIDGE_URL": engine.bridge_url}) as proc:
        _until(f"{api}/dev/hot", (200, {"says": "v1", "word": "one"}))
        step.write_text(STEP.format(name="DevHot", route="dev/hot", says="v2"))
        _until(f"{api}/dev/hot", (200, {"says": "v2", "word": "one"}))
        assert "reloaded step DevHot (dev_step.py)" in proc.text()

        (tmp_path / "extra_step.py").write_text(
            STEP.format(name="DevNew", route="dev/new", says="n")
        )
        _until(f"{api}/dev/new", (200, {"says": "n", "word": "one"}))

        (tmp_path / "words.py").write_text('WORD = "two"\n')
        _until(f"{api}/dev/hot", (200, {"says": "v2", "word": "two"}))
        _until(f"{api}/dev/new", (200, {"says": "n", "word": "two"}))

        (tmp_path / "broken_step.py").write_text("import nope_not_a_module\n")
        proc.wait_for("cannot load broken_step.py: ModuleNotFoundError")

        step.unlink()
        _until(f"{api}/dev/hot", 404)
        assert "removed step DevHot (dev_step.py)" in proc.text()
        assert http_json("GET", f"{api}/dev/new").status == 200


def test_dev_keeps_the_old_version_when_an_edit_does_not_parse(
    engine: EngineProcess, tmp_path: Path
) -> None:
    """A syntax error in an edited step file keeps the running version and says so."""
    (tmp_path / "words.py").write_text('WORD = "w"\n')
    step = tmp_path / "keep_step.py"
    step.write_text(STEP.format(name="DevKeep", route="dev/keep", says="good"))
    cmd = [sys.executable, "-m", "motia", "dev", str(tmp_path)]
    with run_process(cmd, ready="motia ready", env={"III_BRIDGE_URL": engine.bridge_url}) as proc:
        url = f"{engine.api_url}/dev/keep"
        _until(url, (200, {"says": "good", "word": "w"}))
        step.write_text("def broken(:\n")
        proc.wait_for("its previous version keeps running")
        assert http_json("GET", url).body == {"says": "good", "word": "w"}
        step.write_text(STEP.format(name="DevKeep", route="dev/keep", says="fixed"))
        _until(url, (200, {"says": "fixed", "word": "w"}))


COND_STEP = """
from motia import ApiResponse, ApiTrigger, StepConfig, step_wrapper

def closed(req, ctx):
    return False

config = StepConfig(
    name="DevCond",
    triggers=[ApiTrigger(path="/dev/cond", method="GET"{condition})],
)

def handler(req, ctx):
    return ApiResponse(status=200, body={{"open": True}})

step_wrapper(config, __file__, handler)
"""


def test_dev_reload_adds_and_removes_conditions(engine: EngineProcess, tmp_path: Path) -> None:
    """A reload that drops a condition unbinds it; one that adds it back binds it again."""
    step = tmp_path / "cond_step.py"
    step.write_text(COND_STEP.format(condition=", condition=closed"))
    cmd = [sys.executable, "-m", "motia", "dev", str(tmp_path)]
    with run_process(cmd, ready="motia ready", env={"III_BRIDGE_URL": engine.bridge_url}):
        url = f"{engine.api_url}/dev/cond"
        _until(url, 422)
        step.write_text(COND_STEP.format(condition=""))
        _until(url, (200, {"open": True}))
        step.write_text(COND_STEP.format(condition=", conditions=[closed]"))
        _until(url, 422)


def test_dev_sees_an_edit_made_right_after_ready(engine: EngineProcess, tmp_path: Path) -> None:
    """Watching starts before "motia ready": an edit written at once is not missed."""
    (tmp_path / "words.py").write_text('WORD = "w"\n')
    step = tmp_path / "quick_step.py"
    step.write_text(STEP.format(name="DevQuick", route="dev/quick", says="first"))
    cmd = [sys.executable, "-m", "motia", "dev", str(tmp_path)]
    with run_process(cmd, ready="motia ready", env={"III_BRIDGE_URL": engine.bridge_url}):
        step.write_text(STEP.format(name="DevQuick", route="dev/quick", says="second"))
        _until(f"{engine.api_url}/dev/quick", (200, {"says": "second", "word": "w"}))
