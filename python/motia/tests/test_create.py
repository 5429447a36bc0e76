"""motia-py create: the Python project template is written and runs as its README says."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from iii.testing import EngineProcess, http_json, run_process
from motia import create_project
from motia.create import template_files


def test_create_writes_the_template(tmp_path: Path) -> None:
    """Every template file is written, the name filled in, gitignore renamed."""
    target = tmp_path / "shop"
    written = create_project(target)
    rel = sorted(p.relative_to(target).as_posix() for p in written)
    assert rel == [
        ".gitignore",
        "README.md",
        "requirements.txt",
        "steps/count_step.py",
        "steps/hello_step.py",
    ]
    assert len(template_files()) == len(rel)
    readme = (target / "README.md").read_text()
    assert readme.startswith("# shop\n") and "npx motia dev" in readme
    with pytest.raises(FileExistsError, match="not an empty folder"):
        create_project(target)
    with pytest.raises(ValueError, match="project name"):
        create_project(tmp_path / "other", name="bad name")


def test_created_project_runs(engine: EngineProcess, tmp_path: Path) -> None:
    """The created steps serve: a valid greeting, Node's 400 for a bad one, the event counted."""
    target = tmp_path / "hello-app"
    cmd = [sys.executable, "-m", "motia", "create", str(target)]
    with run_process(cmd) as proc:
        assert proc.process.wait(20) == 0
    run = [sys.executable, "-m", "motia", "run", str(target)]
    with run_process(run, ready="motia ready", env={"III_BRIDGE_URL": engine.bridge_url}):
        url = f"{engine.api_url}/hello"
        ok = http_json("POST", url, {"name": "Ada"})
        assert (ok.status, ok.body) == (200, {"message": "Hello, Ada!"})
        bad = http_json("POST", url, {})
        assert bad.status == 400 and bad.body["error"] == "validation_failed"
        assert bad.body["issues"][0]["path"] == ["name"]
        deadline = time.monotonic() + 10
        while http_json("GET", f"{url}/Ada").body != {"count": 1}:
            assert time.monotonic() < deadline, "hello.sent was never counted"
            time.sleep(0.1)
