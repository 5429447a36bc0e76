"""Hot reload for ``motia-py dev``: watch the project's ``.py`` files and apply each change.

A changed or new step file is imported again (its steps are replaced in place: new version
first, then what only the old one had is taken back); a deleted step file's steps are taken
back. A changed helper module (any other ``.py`` under the folder) is dropped from
``sys.modules`` and every step file is imported again, since any of them may use it.
Changes are batched by ``watchfiles`` (a quiet period of 50 ms, a batch at most every 1.6 s).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from pathlib import Path

from watchfiles import Change, awatch

from .project import LoadReport, Project, find_step_files, in_project, is_step_file, scan


def _drop_helpers(root: Path) -> None:
    """Forget the project's own modules (not step files) so the next import reads them anew."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not file or name.startswith("motia_steps."):
            continue
        path = Path(file)
        if in_project(root, path):
            del sys.modules[name]


async def apply_changes(project: Project, changes: Iterable[tuple[Change, str]]) -> LoadReport:
    """Apply one batch of file changes to the running project."""
    root = project.root
    touched = {Path(p).resolve() for _, p in changes}
    paths = sorted(p for p in touched if in_project(root, p))
    report = LoadReport()
    if not paths:
        return report
    await project.guard.refresh(project.bridge)
    helpers_changed = any(not is_step_file(p) for p in paths)
    if helpers_changed:
        _drop_helpers(root)
        project.log("a shared module changed: reloading every step file")
    for path in paths:
        if is_step_file(path):
            if path.exists():
                project.load(path, report)
            else:
                project.unload(path)
    if helpers_changed:
        for path in find_step_files(root):
            if path not in touched:
                project.load(path, report)
    if project.bridge.connected:
        await project.settle(report)
    project.log("reload done")
    return report


def changes_since(root: Path, snapshot: dict[Path, int]) -> list[tuple[Change, str]]:
    """The project files added, modified or deleted since ``snapshot`` (see ``scan``)."""
    now = scan(root)
    changes: list[tuple[Change, str]] = []
    for path, mtime in now.items():
        if path not in snapshot:
            changes.append((Change.added, str(path)))
        elif snapshot[path] != mtime:
            changes.append((Change.modified, str(path)))
    changes.extend((Change.deleted, str(p)) for p in snapshot if p not in now)
    return changes


async def start_watching(
    project: Project, stop: asyncio.Event, snapshot: dict[Path, int]
) -> asyncio.Task[None]:
    """Start :func:`watch`, then apply what changed since ``snapshot`` was taken.

    The watcher is in place once its task reached its first wait (``awatch`` sets it up before
    that), so a change is either seen by it or found by the comparison; one seen by both is
    applied twice, which is harmless.
    """
    task = asyncio.create_task(watch(project, stop))
    for _ in range(3):
        await asyncio.sleep(0)
    missed = changes_since(project.root, snapshot)
    if missed:
        await apply_changes(project, missed)
    return task


async def watch(project: Project, stop: asyncio.Event) -> None:
    """Apply changes under the project folder until ``stop`` is set."""
    async for changes in awatch(
        project.root, stop_event=stop, watch_filter=lambda _c, p: p.endswith(".py")
    ):
        try:
            await apply_changes(project, changes)
        except Exception as exc:  # a reload never ends the dev server
            project.errors(f"error: reload failed: {type(exc).__name__}: {exc}")
