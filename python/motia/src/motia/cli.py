"""The ``motia-py`` command (also ``python -m motia``): ``run``, ``dev``, ``describe``, ``create``.

``motia-py run <folder>`` serves every step file of the folder on the engine at
``III_BRIDGE_URL`` (or ``--url``) until SIGINT/SIGTERM; ``motia-py dev <folder>`` does the same
and reloads step files when they change; ``motia-py describe <folder>`` prints what the steps
would register (for ``motia openapi``, no engine needed); ``motia-py create <dir>`` writes a
new Python project. The Node ``motia dev`` / ``motia start`` run this for the ``_step.py``
files of a mixed project, so one command serves both languages. The console script is
``motia-py`` so it never shadows the Node ``motia`` command in a project that has both.

``run`` loads every file it can: each one that fails is named with the reason, the others
are served; it exits 1 when no step could be loaded (or, with ``--strict``, when any file
failed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from iii import Bridge, ConnectionFailedError, TraceIdFilter

from .create import create_project
from .guard import AppIdentity, StepGuard
from .project import Project, find_step_files, scan
from .registration import describe
from .runtime import configure, get_bridge, set_bridge
from .step import registered_steps

log = logging.getLogger("motia")


def _say(line: str) -> None:
    print(f"[motia-py] {line}", flush=True)


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Set ``stop`` when stdin reaches EOF: the parent that holds the pipe is gone."""

    def wait() -> None:
        # os.read on the descriptor: a buffered reader would hold its lock at shutdown
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait, name="motia-stdin-watch", daemon=True).start()


async def serve(args: argparse.Namespace) -> int:
    """Connect, load the step files, serve (and in ``dev``, watch) until a signal arrives."""
    root: Path = args.folder.resolve()
    dev = args.command == "dev"
    if args.url:
        set_bridge(Bridge(args.url, name="motia-python"))
    identity = AppIdentity.for_project(root, app=args.app, replica=args.replica or None)
    guard = StepGuard(identity)
    configure(root=root, identity=identity, guard=guard)
    if not dev and not find_step_files(root):
        log.error("no step files (*_step.py, *.step.py) under %s", root)
        return 1
    bridge = get_bridge()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if args.exit_with_stdin:
        _watch_stdin(loop, stop)
    project = Project(root, bridge, guard, _say)
    project.errors = lambda line: print(f"[motia-py] {line}", file=sys.stderr, flush=True)
    logging.getLogger("iii").addHandler(project.engine_errors)
    snapshot = scan(root)  # what the files were when they were loaded (dev compares later)
    report = project.load_all()
    if not dev and not registered_steps():
        project.errors("error: no step could be loaded")
        return 1
    try:
        await project.verify_names(report)
        await bridge.connect()
        await project.settle(report)
    except ConnectionFailedError as exc:
        log.error(
            "no engine at %s (%s): start one with `npx iii`, or run the project with "
            "`npx motia dev`, which starts one",
            bridge.url,
            exc,
        )
        return 1
    steps = len(registered_steps())
    if report.failed:
        names = ", ".join(project.rel(p) for p in report.failed)
        project.errors(f"error: {len(report.failed)} file(s) could not be loaded: {names}")
    if not dev and (steps == 0 or (args.strict and report.failed)):
        await bridge.disconnect()
        return 1
    watcher = None
    if dev:
        from .dev import start_watching

        # watching starts before "ready", and what changed since the load is applied, so no
        # edit made in between is missed
        watcher = await start_watching(project, stop, snapshot)
        steps = len(registered_steps())
    log.info("motia ready: %d step(s) on %s", steps, bridge.url)
    _say(f"ready: {steps} step(s) on {bridge.url}" + (", watching for changes" if dev else ""))
    print("motia ready", flush=True)
    await stop.wait()
    if watcher is not None:
        await asyncio.gather(watcher, return_exceptions=True)
    await bridge.disconnect()
    return 0


def describe_project(args: argparse.Namespace) -> int:
    """Print what the project's steps would register (no engine needed); 1 if a file failed."""
    root: Path = args.folder.resolve()
    identity = AppIdentity.for_project(root, app=args.app, replica=args.replica or None)
    configure(root=root, identity=identity, guard=None)
    project = Project(root, get_bridge(), StepGuard(identity), lambda line: None)
    project.errors = lambda line: print(f"[motia-py] {line}", file=sys.stderr, flush=True)
    report = project.load_all()
    print(json.dumps(describe(registered_steps()), indent=2))
    return 1 if report.failed else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="motia-py", description="Run Motia steps written in Python on the iii engine."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("run", "serve every step file in a folder"),
        ("dev", "serve every step file in a folder and reload the ones that change"),
        ("describe", "print the functions and triggers the steps register, as JSON"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("folder", type=Path, nargs="?", default=Path("."))
        cmd.add_argument("--url", help="engine bridge URL (default: III_BRIDGE_URL)")
        cmd.add_argument("--log-level", default="INFO")
        cmd.add_argument("--app", help="app identity (default: MOTIA_APP, else the folder path)")
        cmd.add_argument(
            "--replica",
            action="store_true",
            help="this is a replica of the app: share step names with its other replicas",
        )
        cmd.add_argument(
            "--strict", action="store_true", help="exit 1 when any step file fails to load"
        )
        cmd.add_argument("--exit-with-stdin", action="store_true", help=argparse.SUPPRESS)
    create = sub.add_parser("create", help="write a new Python Motia project")
    create.add_argument("dir", type=Path)
    create.add_argument("--name", help="project name (default: the folder's name)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``motia-py`` and ``python -m motia``."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "create":
        try:
            written = create_project(args.dir, name=args.name)
        except (FileExistsError, ValueError) as exc:
            print(f"motia-py: {exc}", file=sys.stderr)
            return 1
        print(f"created {args.dir} ({len(written)} files); next: see {args.dir}/README.md")
        return 0
    handler = logging.StreamHandler()
    handler.addFilter(TraceIdFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=args.log_level.upper(), handlers=[handler])
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder")
    if args.command == "describe":
        return describe_project(args)
    try:
        return asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        log.error("%s", exc)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
