"""The ``motia`` command: ``motia run <folder>`` serves every step file in a folder.

Step files are ``*_step.py`` and ``*.step.py`` anywhere under the folder (``__pycache__``,
hidden folders, ``node_modules`` and virtual environments are skipped). Each is imported once
(so its ``step_wrapper(...)`` calls register), then the default bridge connects to
``III_BRIDGE_URL`` (or ``--url``) and serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from iii import Bridge, TraceIdFilter

from .runtime import get_bridge, set_bridge
from .step import registered_steps

_SKIP = {"__pycache__", "node_modules", ".venv", "venv", ".git"}


def find_step_files(folder: Path) -> list[Path]:
    """Every step file under ``folder``, sorted by path."""
    found = []
    for path in folder.rglob("*.py"):
        rel = path.relative_to(folder)
        if any(part in _SKIP or part.startswith(".") for part in rel.parts[:-1]):
            continue
        if path.name.endswith(("_step.py", ".step.py")):
            found.append(path)
    return sorted(found)


def import_step_file(path: Path) -> None:
    """Import one step file under a unique module name (``.step.py`` names are not identifiers)."""
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    name = f"motia_steps.{path.stem.replace('.', '_')}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


async def serve(folder: Path, url: str | None) -> int:
    """Import the step files, connect, and serve until a signal arrives."""
    log = logging.getLogger("motia")
    if url:
        set_bridge(Bridge(url, name="motia-python"))
    files = find_step_files(folder)
    if not files:
        log.error("no step files (*_step.py, *.step.py) under %s", folder)
        return 1
    sys.path.insert(0, str(folder))
    for path in files:
        try:
            import_step_file(path)
        except Exception:
            log.exception("failed to import step file %s", path)
            return 1
    bridge = get_bridge()
    for step in registered_steps():
        log.info("step %s -> %s", step.config.name, ", ".join(step.function_paths))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await bridge.connect()
    log.info("motia ready: %d step(s) on %s", len(registered_steps()), bridge.url)
    print("motia ready", flush=True)
    await stop.wait()
    await bridge.disconnect()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``motia`` command."""
    parser = argparse.ArgumentParser(prog="motia", description="Run Motia steps on iii.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="serve every step file in a folder")
    run.add_argument("folder", type=Path)
    run.add_argument("--url", help="engine bridge URL (default: III_BRIDGE_URL)")
    run.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    handler = logging.StreamHandler()
    handler.addFilter(TraceIdFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=args.log_level.upper(), handlers=[handler])
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder")
    try:
        return asyncio.run(serve(args.folder.resolve(), args.url))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        logging.getLogger("motia").error("%s", exc)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
