"""Two apps registering one step name on one engine: the second is refused, naming both."""

from __future__ import annotations

import sys
from pathlib import Path

from iii.testing import EngineProcess, http_json, run_process

STEP = """
from motia import ApiResponse, ApiTrigger, StepConfig, step_wrapper

config = StepConfig(name="{name}", triggers=[ApiTrigger(path="/{route}", method="GET")])

def handler(req, ctx):
    return ApiResponse(status=200, body={{"app": "{app}"}})

step_wrapper(config, __file__, handler)
"""


def _app(root: Path, app: str, *, step: str = "GuardShared", route: str = "guard/shared") -> Path:
    root.mkdir()
    (root / "shared_step.py").write_text(STEP.format(name=step, route=route, app=app))
    (root / "own_step.py").write_text(STEP.format(name=f"Own{app}", route=f"guard/{app}", app=app))
    return root


def _run(root: Path, engine: EngineProcess, *extra: str) -> list[str]:
    return [sys.executable, "-m", "motia", "run", str(root), "--url", engine.bridge_url, *extra]


def test_second_app_with_the_same_step_name_is_refused(
    engine: EngineProcess, tmp_path: Path
) -> None:
    """The second app names both apps and folders, serves its other steps, the first keeps its."""
    first = _app(tmp_path / "shop", "shop")
    second = _app(tmp_path / "billing", "billing")
    with (
        run_process(_run(first, engine), ready="motia ready"),
        run_process(_run(second, engine), ready="motia ready") as late,
    ):
        text = late.text()
        assert (
            'shared_step.py: step "GuardShared" is already registered on the engine by app '
            f'"shop" ({first.resolve()}, pid '
        ) in text
        assert f'this app is "billing" ({second.resolve()}, pid {late.process.pid})' in text
        assert "--replica" in text
        for _ in range(6):  # calls are spread over workers: every one must reach "shop"
            assert http_json("GET", f"{engine.api_url}/guard/shared").body == {"app": "shop"}
        assert http_json("GET", f"{engine.api_url}/guard/billing").body == {"app": "billing"}


def test_replicas_of_one_app_share_their_step_names(engine: EngineProcess, tmp_path: Path) -> None:
    """Started with --replica and the same --app, two folders serve the same step."""
    a = _app(tmp_path / "a", "a", step="GuardReplica", route="guard/replica")
    b = _app(tmp_path / "b", "b", step="GuardReplica", route="guard/replica")
    extra = ("--replica", "--app", "orders")
    with (
        run_process(_run(a, engine, *extra), ready="motia ready"),
        run_process(_run(b, engine, *extra), ready="motia ready") as second,
    ):
        assert "already registered" not in second.text()
        seen = {http_json("GET", f"{engine.api_url}/guard/replica").body["app"] for _ in range(8)}
        assert seen == {"a", "b"}
    with (
        run_process(_run(a, engine, "--app", "orders"), ready="motia ready"),
        run_process(_run(b, engine, *extra), ready="motia ready") as half,
    ):
        assert 'step "GuardReplica" is already registered' in half.text()


def test_one_step_name_in_two_files_of_a_project(engine: EngineProcess, tmp_path: Path) -> None:
    """Two step files of one project with one step name: the second is named and skipped."""
    root = tmp_path / "dup"
    root.mkdir()
    (root / "a_step.py").write_text(STEP.format(name="GuardTwice", route="guard/twice", app="a"))
    (root / "b_step.py").write_text(STEP.format(name="GuardTwice", route="guard/twice", app="b"))
    with run_process(_run(root, engine), ready="motia ready") as proc:
        assert 'b_step.py: step name "GuardTwice" is already used by a_step.py' in proc.text()
        assert http_json("GET", f"{engine.api_url}/guard/twice").body == {"app": "a"}
