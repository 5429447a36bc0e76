"""A logger that stamps every record with the current trace id and forwards it to the engine.

:class:`Logger` writes through the standard :mod:`logging` module (logger name ``iii`` by
default) so applications keep control of handlers and levels. Each record gets the attributes
``trace_id`` and ``function_path`` (``"-"`` when unknown), and the message is prefixed with the
trace id so it shows up with any formatter. :class:`TraceIdFilter` adds the same attributes to
records from other loggers, for format strings such as ``"%(trace_id)s %(message)s"``.

Every record at or above ``III_LOG_LEVEL`` (default ``info``, as in the Node SDK, whatever the
:mod:`logging` configuration) is also sent, fire-and-forget, to the engine's ``logger.log``
built-in as ``{level, message, trace_id?, function_path?, data?}``:
through a :class:`LogSink`: the logger's own ``bridge``, or else the sink installed for the
current call (a :class:`~iii.Bridge` installs itself while it runs a handler, so a plain
``Logger()`` used inside a handler forwards). Any object with a ``forward_log(entry)`` method is
a sink; this module knows no bridge. ``Logger(forward=False)`` or ``Bridge(forward_logs=False)``
turns forwarding off.

JSON lines: with ``III_LOG_FORMAT=json`` (or ``Bridge(log_format="json")``, or
:func:`use_json_logs`) the ``iii`` logger writes one JSON object per line to stdout through a
:class:`JsonFormatter`, with the engine's field names (``protocol/sdk-cases.json``
``json_logs``, shared with the Node SDK): ``time``, ``level``, ``message``, ``source``,
``trace_id``, ``span_id``, ``function_path``, ``worker_id``, ``worker_name``, then the data.

Redaction (the rule of ``protocol/sdk-cases.json``, shared with the Node SDK): values under the
keys of :data:`SECRET_KEYS` (matched whole, case-insensitively) become ``[redacted]``, and in
strings the values of the query parameters of :data:`SECRET_QUERY_PARAMS`, before anything is
written or sent.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from .context import current_invocation
from .tracing import current_trace, current_trace_id

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}

# The engine's level names (``logger.log`` takes trace/debug/info/warn/error/fatal).
_WIRE_LEVELS = {
    "debug": "debug",
    "info": "info",
    "warning": "warn",
    "error": "error",
    "critical": "fatal",
}

SECRET_KEYS: frozenset[str] = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api_key",
        "api-key",
        "apikey",
        "token",
        "access_token",
        "access-token",
        "refresh_token",
        "password",
        "passwd",
        "secret",
        "client_secret",
    }
)
"""Keys (lower case, matched whole and case-insensitively) whose values are redacted."""

SECRET_QUERY_PARAMS: tuple[str, ...] = (
    "token",
    "access_token",
    "api_key",
    "apikey",
    "key",
    "password",
    "secret",
)
"""URL query parameters whose values are redacted in strings."""

_SECRET_PARAM = re.compile(
    r"([?&](?:" + "|".join(map(re.escape, SECRET_QUERY_PARAMS)) + r")=)[^&#\s]*", re.IGNORECASE
)
REDACTED = "[redacted]"


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.lower() in SECRET_KEYS


def redact_url(text: str) -> str:
    """Replace the values of secret-looking query parameters (``?token=...``) in ``text``."""
    return _SECRET_PARAM.sub(r"\1" + REDACTED, text)


def redact(value: Any, _depth: int = 0, _seen: set[int] | None = None) -> Any:
    """A copy of ``value`` with secret-looking keys' values replaced by ``[redacted]``.

    Dicts, lists and tuples are copied (depth-limited; cycles become ``[...]``), strings have
    secret URL parameters redacted, exceptions become ``{name, message}``; anything else is
    returned as it is.
    """
    if isinstance(value, str):
        return redact_url(value) if "=" in value else value
    if isinstance(value, BaseException):
        return {"name": type(value).__name__, "message": redact_url(str(value))}
    if not isinstance(value, dict | list | tuple):
        return value
    seen = _seen if _seen is not None else set()
    if _depth > 8 or id(value) in seen:
        return "[...]"
    seen.add(id(value))
    try:
        if isinstance(value, dict):
            return {
                k: REDACTED if _is_secret_key(k) else redact(v, _depth + 1, seen)
                for k, v in value.items()
            }
        return [redact(v, _depth + 1, seen) for v in value]
    finally:
        seen.discard(id(value))


@runtime_checkable
class LogSink(Protocol):
    """Where forwarded records go: anything with ``forward_log`` (a :class:`~iii.Bridge` is one).

    ``entry`` is the engine's ``logger.log`` input, already redacted:
    ``{level, message, trace_id?, function_path?, data?}`` with the engine's level names
    (``debug``, ``info``, ``warn``, ``error``, ``fatal``). It must not raise nor block: logging
    is best effort.
    """

    def forward_log(self, entry: dict[str, Any]) -> None:
        """Take one record (fire-and-forget)."""


_log_sink: contextvars.ContextVar[LogSink | None] = contextvars.ContextVar(
    "iii_log_sink", default=None
)


def set_log_sink(sink: LogSink | None) -> contextvars.Token[LogSink | None]:
    """Make ``sink`` the one loggers forward through in this context (a bridge does this for
    each call it runs); undo with :func:`reset_log_sink`."""
    return _log_sink.set(sink)


def reset_log_sink(token: contextvars.Token[LogSink | None]) -> None:
    """Undo :func:`set_log_sink`."""
    _log_sink.reset(token)


class Logger:
    """Context-aware logging: ``info/debug/warning/warn/error/critical/exception``.

    Every method takes the message, optional structured ``data`` (kept on the record as
    ``record.data`` and appended to the text) and ``exc_info`` as in :mod:`logging`.
    ``trace_id`` pins a trace id and ``function_path`` a function path; by default those of the
    running call are used. ``bridge`` pins the :class:`LogSink` records are forwarded through
    (default: the sink of the current call, i.e. the bridge running it); ``forward=False`` keeps
    records local. ``sink(level, message, entry)`` also receives every record (for tests or
    custom outputs).
    """

    def __init__(
        self,
        name: str = "iii",
        *,
        trace_id: str | None = None,
        function_path: str | None = None,
        sink: Callable[[str, str, dict[str, Any]], None] | None = None,
        bridge: LogSink | None = None,
        forward: bool = True,
    ) -> None:
        if not isinstance(name, str):
            raise TypeError(f"Logger name must be a str, got {type(name).__name__}")
        self._log = logging.getLogger(name)
        self._trace_id = trace_id
        self._function_path = function_path
        self._sink = sink
        self._bridge = bridge
        self._forward = bool(forward)

    @property
    def trace_id(self) -> str | None:
        """The trace id stamped on records (the running call's when not pinned)."""
        return self._trace_id or current_trace_id()

    @property
    def function_path(self) -> str | None:
        """The function path stamped on records (the running call's when not pinned)."""
        if self._function_path:
            return self._function_path
        inv = current_invocation()
        return inv.function_path if inv else None

    def debug(self, message: str, data: Any = None, *, exc_info: Any = False) -> None:
        """Log at DEBUG level."""
        self._emit("debug", message, data, exc_info)

    def info(self, message: str, data: Any = None, *, exc_info: Any = False) -> None:
        """Log at INFO level."""
        self._emit("info", message, data, exc_info)

    def warning(self, message: str, data: Any = None, *, exc_info: Any = False) -> None:
        """Log at WARNING level."""
        self._emit("warning", message, data, exc_info)

    warn = warning

    def error(self, message: str, data: Any = None, *, exc_info: Any = False) -> None:
        """Log at ERROR level; ``exc_info=True`` adds the current exception's traceback."""
        self._emit("error", message, data, exc_info)

    def critical(self, message: str, data: Any = None, *, exc_info: Any = False) -> None:
        """Log at CRITICAL level."""
        self._emit("critical", message, data, exc_info)

    def exception(self, message: str, data: Any = None) -> None:
        """Log at ERROR level with the current exception's traceback."""
        self._emit("error", message, data, True)

    def _emit(self, level: str, message: str, data: Any, exc_info: Any) -> None:
        trace_id = self.trace_id
        function_path = self.function_path
        target = self._bridge if self._bridge is not None else _log_sink.get()
        text = redact_url(str(message))
        safe = None if data is None else redact(data)
        line = text if safe is None else f"{text} {safe!r}"
        prefix = f"[{trace_id[:8]}] " if trace_id else ""
        self._log.log(
            _LEVELS[level],
            prefix + line,
            exc_info=exc_info,
            stacklevel=3,
            extra={
                "trace_id": trace_id or "-",
                "function_path": function_path or "-",
                "data": safe,
                "iii_message": text,
                "iii_worker": target,
            },
        )
        entry: dict[str, Any] = {"level": level, "message": text}
        if trace_id:
            entry["trace_id"] = trace_id
        if function_path:
            entry["function_path"] = function_path
        if safe is not None:
            entry["data"] = safe
        if self._sink is not None:
            self._sink(level, text, entry)
        if self._forward and target is not None and _LEVELS[level] >= _forward_threshold():
            target.forward_log({**entry, "level": _WIRE_LEVELS[level]})


def _forward_threshold() -> int:
    """The lowest level forwarded to the engine: ``III_LOG_LEVEL``, else INFO."""
    name = os.environ.get("III_LOG_LEVEL", "info").lower()
    return _LEVELS.get(name, logging.INFO) if name != "silent" else logging.CRITICAL + 1


class TraceIdFilter(logging.Filter):
    """Adds ``trace_id`` and ``function_path`` to records that lack them (use on a handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "trace_id"):
            record.trace_id = current_trace_id() or "-"
        if not hasattr(record, "function_path"):
            record.function_path = "-"
        return True


JSON_FIELDS: tuple[str, ...] = (
    "time",
    "level",
    "message",
    "source",
    "trace_id",
    "span_id",
    "function_path",
    "worker_id",
    "worker_name",
)
"""The keys every JSON line has, first; a data key of the same name does not replace them."""


def _wire_level(levelno: int) -> str:
    if levelno >= logging.CRITICAL:
        return "fatal"
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warn"
    return "info" if levelno >= logging.INFO else "debug"


def _dash(value: Any) -> Any:
    return None if value in (None, "-", "") else value


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object (the fields of :data:`JSON_FIELDS`, then the data).

    Records of :class:`Logger` carry their redacted data, which is spread at the top level
    when it is a dict (else kept under ``data``); records of other loggers get the running
    call's trace and the current sink's worker, and their message is redacted too.
    """

    def format(self, record: logging.LogRecord) -> str:
        trace = current_trace()
        inv = current_invocation()
        worker = getattr(record, "iii_worker", None) or _log_sink.get()
        message = getattr(record, "iii_message", None)
        if message is None:
            message = redact_url(record.getMessage())
        trace_id = _dash(getattr(record, "trace_id", None)) or (trace.trace_id if trace else None)
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": _wire_level(record.levelno),
            "message": message,
            "source": "worker",
            "trace_id": trace_id,
            "span_id": trace.span_id if trace and trace.trace_id == trace_id else None,
            "function_path": _dash(getattr(record, "function_path", None))
            or (inv.function_path if inv else None),
            "worker_id": getattr(worker, "worker_id", None),
            "worker_name": getattr(worker, "name", None),
        }
        data = getattr(record, "data", None)
        if isinstance(data, dict):
            for key, value in data.items():
                if str(key) not in line:
                    line[str(key)] = value
        elif data is not None:
            line["data"] = data
        if record.exc_info:
            line["exception"] = redact_url(self.formatException(record.exc_info))
        return json.dumps(line, default=str, ensure_ascii=False)


def log_format_from_env() -> str:
    """``json`` when ``III_LOG_FORMAT`` is ``json`` (any case), else ``text``."""
    return "json" if os.environ.get("III_LOG_FORMAT", "").lower() == "json" else "text"


def use_json_logs(name: str = "iii") -> logging.Handler:
    """Make logger ``name`` write JSON lines (:class:`JsonFormatter`) to stdout, and only there.

    Idempotent: a second call returns the handler of the first. The logger's level is set from
    ``III_LOG_LEVEL`` (default ``info``) when it has none, and it stops propagating, so each
    line is written once, as JSON.
    """
    log = logging.getLogger(name)
    for handler in log.handlers:
        if getattr(handler, "_iii_json", False):
            return handler
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler._iii_json = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    if log.level == logging.NOTSET:
        level = os.environ.get("III_LOG_LEVEL", "info").lower()
        log.setLevel(
            _LEVELS.get(level, logging.INFO) if level != "silent" else logging.CRITICAL + 1
        )
    log.propagate = False
    return handler
