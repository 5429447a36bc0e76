"""A folder of step files served on one bridge: finding, loading, reloading and reporting.

Step files are ``*_step.py`` and ``*.step.py`` anywhere under the folder (``__pycache__``,
hidden folders, ``node_modules``, ``dist`` and virtual environments are skipped). Each is
imported under a unique module name, so its ``step_wrapper(...)`` calls register. The folder
is put first on ``sys.path``, so step files import the project's own modules.

Loading goes on past a file that fails: every failure is reported with the file and why, and
the rest are served. A file that fails part-way registers nothing (what it registered before
the error is taken back); a file that fails before registering anything on a reload keeps
its previous version. A step another app serves on the engine is refused
(:mod:`motia.guard`), and so is a step whose trigger the engine refused (a bad cron
expression...): both are reported like any other failure, and a step is said to be "loaded"
only once the engine took all its triggers.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from iii import Bridge

from .errors import MotiaConfigError
from .guard import StepGuard, StepNameTakenError
from .step import Step, registered_steps


class EngineErrors(logging.Handler):
    """The engine's error frames that the SDK logged, by the ``ref`` (trigger id) they name."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.by_ref: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if (
            str(record.msg).startswith("engine error")
            and isinstance(args, tuple)
            and len(args) == 3
        ):
            code, message, ref = args
            if ref:
                self.by_ref[str(ref)] = f"{code}: {message}"


SKIP_DIRS = {"__pycache__", "node_modules", ".venv", "venv", ".git", ".motia", "dist"}


def is_step_file(path: Path) -> bool:
    """``*_step.py`` or ``*.step.py``."""
    return path.name.endswith(("_step.py", ".step.py"))


def in_project(root: Path, path: Path) -> bool:
    """True for a ``.py`` file under ``root`` outside the skipped folders."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        return False
    if any(part in SKIP_DIRS or part.startswith(".") for part in rel.parts[:-1]):
        return False
    return path.suffix == ".py"


def find_step_files(folder: Path) -> list[Path]:
    """Every step file under ``folder``, sorted by path."""
    return sorted(p for p in folder.rglob("*.py") if in_project(folder, p) and is_step_file(p))


def scan(root: Path) -> dict[Path, int]:
    """The modification time (ns) of every project ``.py`` file under ``root``."""
    out: dict[Path, int] = {}
    for path in root.rglob("*.py"):
        if in_project(root, path):
            try:
                out[path.resolve()] = path.stat().st_mtime_ns
            except OSError:
                continue  # removed while scanning
    return out


def module_name(path: Path) -> str:
    """The unique module name a step file is imported under."""
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    return f"motia_steps.{path.stem.replace('.', '_')}_{digest}"


def import_step_file(path: Path) -> None:
    """Import (or import again) one step file under its module name."""
    name = module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise


@dataclass
class LoadReport:
    """What a load did: the steps now registered per file, and each failure with its reason."""

    loaded: dict[Path, list[str]] = field(default_factory=dict)
    failed: dict[Path, str] = field(default_factory=dict)


class Project:
    """The step files of ``root`` registered on ``bridge`` (``guard`` checks names first)."""

    def __init__(
        self, root: Path, bridge: Bridge, guard: StepGuard, log: Callable[[str], None]
    ) -> None:
        self.root = root
        self.bridge = bridge
        self.guard = guard
        self.log = log
        self.errors: Callable[[str], None] = log
        # steps are said to be loaded only once the engine took their triggers (settle)
        self._pending: list[tuple[str, Step]] = []
        self.engine_errors = EngineErrors()

    def rel(self, path: Path) -> str:
        """``path`` relative to the project folder."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def steps_of(self, path: Path) -> list[Step]:
        """The steps registered from one file."""
        return [s for s in registered_steps() if Path(s.file).resolve() == path.resolve()]

    def load_all(self) -> LoadReport:
        """Import every step file (before connecting: registrations are sent on connect)."""
        if str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))
        report = LoadReport()
        for path in find_step_files(self.root):
            self.load(path, report)
        return report

    async def verify_names(self, report: LoadReport) -> None:
        """Refuse the loaded steps another project serves on the engine (read through a
        short-lived probe connection, before this project's registrations are sent)."""
        probe = Bridge(self.bridge.url, name="motia-python-probe", reconnect=False)
        try:
            await probe.connect()
            await self.guard.refresh(probe)
        finally:
            await probe.disconnect()
        for step in registered_steps():
            path = Path(step.file)
            try:
                self.guard.verify(step.config.name, self.rel(path))
            except StepNameTakenError as exc:
                step.unregister()
                names = report.loaded.get(path, [])
                if step.config.name in names:
                    names.remove(step.config.name)
                self._fail(report, path, str(exc))

    async def settle(self, report: LoadReport) -> None:
        """Once the engine has handled every registration: refuse the steps whose triggers it
        refused (e.g. a bad cron expression), then say which steps are loaded."""
        await self.bridge.flush()
        listed = await self.bridge.invoke_function("engine.triggers.list", {})
        ids = {t.get("id") for t in (listed or {}).get("triggers", [])}
        for step in registered_steps():
            for index, ref in enumerate(step.triggers):
                if ref.id in ids:
                    continue
                why = self.engine_errors.by_ref.get(ref.id, "see the engine's error above")
                step.unregister()
                path = Path(step.file)
                self._fail(
                    report,
                    path,
                    f'{self.rel(path)}: step "{step.config.name}": the engine refused its '
                    f"trigger {index} ({ref.trigger_type}): {why}",
                )
                break
        pending, self._pending = self._pending, []
        for verb, step in pending:
            if step.active:
                paths = ", ".join(step.function_paths)
                self.log(f"{verb} step {step.config.name} ({self.rel(Path(step.file))}): {paths}")

    def _fail(self, report: LoadReport, path: Path, reason: str) -> None:
        earlier = report.failed.get(path)
        report.failed[path] = f"{earlier}; {reason}" if earlier else reason
        self.errors(f"error: cannot load {reason}")

    def load(self, path: Path, report: LoadReport) -> bool:
        """Import one step file; on failure take back what it half-registered and report it."""
        before = self.steps_of(path)
        try:
            import_step_file(path)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            new = [s for s in self.steps_of(path) if s not in before]
            for step in new:
                step.unregister()
            if new:
                for step in self.steps_of(path):
                    step.unregister()
            reason = self._reason(path, exc)
            report.failed[path] = reason
            kept = "" if new or not before else " (its previous version keeps running)"
            self.errors(f"error: cannot load {self.rel(path)}: {reason}{kept}")
            return False
        steps = self.steps_of(path)
        stale = [s for s in before if s.active and s not in steps]
        for step in stale:
            step.unregister()
        report.loaded[path] = [s.config.name for s in steps]
        verb = "reloaded" if before else "loaded"
        self._pending.extend((verb, step) for step in steps)
        if not steps:
            self.log(f"{verb} {self.rel(path)}: it registers no step")
        return True

    def unload(self, path: Path) -> None:
        """Take back the steps of a deleted file."""
        for step in self.steps_of(path):
            step.unregister()
            self.log(f"removed step {step.config.name} ({self.rel(path)})")
        sys.modules.pop(module_name(path), None)

    def _reason(self, path: Path, exc: BaseException) -> str:
        if isinstance(exc, MotiaConfigError | SyntaxError):
            return f"{type(exc).__name__}: {exc}"
        if isinstance(exc, SystemExit):
            return f"the file called exit({exc.code!r})"
        frames = traceback.extract_tb(exc.__traceback__)
        inside = [f for f in frames if Path(f.filename).resolve() == path.resolve()]
        at = f" (line {inside[-1].lineno})" if inside else ""
        if isinstance(exc, ValidationError):
            fields = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or '(value)'}: {e['msg']}" for e in exc.errors()
            )
            return f"invalid {exc.title}: {fields}{at}"
        return f"{type(exc).__name__}: {exc}{at}"
