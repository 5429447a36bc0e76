"""Test helpers: run a real iii engine as a child process on ephemeral ports.

``with EngineProcess.start(cli_path) as engine:`` starts ``node <cli> --port 0 --api-port 0
--streams-port 0 --data-dir <tmp>``, waits for the engine's ready line
(``{"iii":"ready","pid":...,"bridge":...,"api":...,"streams":...}``) and exposes the addresses
in it (``engine.bridge_url``, ``engine.api_url``, ``engine.streams_url``). Leaving the block
stops the engine and removes its data directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


def parse_ready_line(line: str) -> dict[str, object] | None:
    """The engine's ready signal on one output line, or ``None`` when the line is not it."""
    text = line.strip()
    if not text.startswith('{"iii":'):
        return None
    try:
        value: object = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict) or value.get("iii") != "ready":
        return None
    return value if isinstance(value.get("pid"), int) else None


def find_engine_cli(start: str | os.PathLike[str] | None = None) -> Path:
    """Locate the engine CLI: ``III_ENGINE_CLI`` or ``packages/engine/bin/iii.js`` upwards."""
    env = os.environ.get("III_ENGINE_CLI")
    if env:
        return Path(env)
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "packages" / "engine" / "bin" / "iii.js"
        if candidate.exists() and (candidate.parent.parent / "dist" / "iii.mjs").exists():
            return candidate
    raise FileNotFoundError("engine CLI not found; build it (npm run build)")


@dataclass
class EngineProcess:
    """A running engine child process and the addresses it listens on."""

    process: subprocess.Popen[str]
    addresses: dict[str, str]
    data_dir: str
    #: What the engine printed (stdout and stderr), without its ready line.
    output: list[str] = field(default_factory=list)
    #: The engine's ready line, parsed: ``{"iii": "ready", "pid": ..., "bridge": ..., ...}``.
    ready: dict[str, object] = field(default_factory=dict)

    @property
    def bridge_url(self) -> str:
        """The worker bridge's WebSocket URL."""
        return self.addresses["bridge"]

    @property
    def api_url(self) -> str | None:
        """The HTTP API's base URL, if the engine printed one."""
        return self.addresses.get("api")

    @property
    def streams_url(self) -> str | None:
        """The stream socket's URL, if the engine printed one."""
        return self.addresses.get("streams")

    @classmethod
    @contextmanager
    def start(
        cls,
        cli: str | os.PathLike[str] | None = None,
        *,
        args: Sequence[str] = (),
        port: int = 0,
        data_dir: str | None = None,
        timeout: float = 20.0,
        env: dict[str, str] | None = None,
    ) -> Iterator[EngineProcess]:
        """Start the engine, wait until it is ready, stop it when the block ends.

        ``port`` fixes the bridge port (default ephemeral); ``data_dir`` reuses a directory
        (kept afterwards) instead of a fresh temporary one.
        """
        cli_path = Path(cli) if cli else find_engine_cli()
        own_dir = data_dir is None
        data_dir = data_dir or tempfile.mkdtemp(prefix="iii-engine-")
        cmd = [
            "node",
            str(cli_path),
            "--port",
            str(port),
            "--api-port",
            "0",
            "--streams-port",
            "0",
            "--data-dir",
            data_dir,
            *args,
        ]
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
            cwd=data_dir,
        )
        engine = cls(proc, {}, data_dir)
        ready = threading.Event()

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                signal = None if ready.is_set() else parse_ready_line(line)
                if signal is None:
                    engine.output.append(line.rstrip("\n"))
                    continue
                # The signal is kept apart from the output, which holds the engine's log.
                engine.ready = signal
                for name, value in signal.items():
                    if name not in ("iii", "pid") and isinstance(value, str):
                        engine.addresses[name] = value
                ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        try:
            deadline = time.monotonic() + timeout
            while not ready.wait(0.05):
                if time.monotonic() > deadline:
                    raise TimeoutError("engine did not print its ready line in time")
            if "bridge" not in engine.addresses:
                raise RuntimeError("engine exited early:\n" + "\n".join(engine.output))
            yield engine
        finally:
            engine.stop()
            if own_dir:
                shutil.rmtree(data_dir, ignore_errors=True)

    def stop(self) -> None:
        """Terminate the engine (SIGTERM, then SIGKILL after 5 s). Safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    """An unused TCP port on 127.0.0.1 (for tests that restart an engine on the same port)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HttpResult:
    """A response from :func:`http_json`."""

    status: int
    headers: dict[str, str]
    body: object


def http_json(
    method: str,
    url: str,
    body: object = None,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> HttpResult:
    """Send one HTTP request (JSON body if given) and decode the JSON answer (blocking)."""
    import json
    import urllib.error
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw, hdrs = resp.status, resp.read(), dict(resp.headers.items())
    except urllib.error.HTTPError as err:
        status, raw, hdrs = err.code, err.read(), dict(err.headers.items())
    try:
        decoded: object = json.loads(raw) if raw else None
    except ValueError:
        decoded = raw.decode("utf-8", "replace")
    return HttpResult(status, {k.lower(): v for k, v in hdrs.items()}, decoded)


@dataclass
class ChildProcess:
    """A worker child process started by :func:`run_process`, with its output so far."""

    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def text(self) -> str:
        """Everything the process printed so far."""
        return "\n".join(self.output)

    def wait_for(self, text: str, timeout: float = 10.0) -> str:
        """Block until a line containing ``text`` is printed; return that line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.output):
                if text in line:
                    return line
            if self.process.poll() is not None:
                time.sleep(0.1)
                if not any(text in line for line in self.output):
                    break
            time.sleep(0.02)
        raise TimeoutError(f"no line containing {text!r}; output:\n{self.text()}")


@contextmanager
def run_process(
    cmd: Sequence[str],
    *,
    ready: str | None = None,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 20.0,
) -> Iterator[ChildProcess]:
    """Start ``cmd`` (stdout and stderr merged), wait for a ``ready`` line, stop it afterwards."""
    proc = subprocess.Popen(
        list(cmd),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        cwd=cwd,
    )
    child = ChildProcess(proc)

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            child.output.append(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    try:
        if ready is not None:
            child.wait_for(ready, timeout)
        yield child
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
