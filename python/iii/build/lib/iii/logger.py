"""A logger that stamps every record with the current trace id.

:class:`Logger` writes through the standard :mod:`logging` module (logger name ``iii`` by
default) so applications keep control of handlers and levels. Each record gets the attributes
``trace_id`` and ``function_path`` (``"-"`` when unknown), and the message is prefixed with the
trace id so it shows up with any formatter. :class:`TraceIdFilter` adds the same attributes to
records from other loggers, for format strings such as ``"%(trace_id)s %(message)s"``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .tracing import current_trace_id

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


class Logger:
    """Context-aware logging: ``info/debug/warning/warn/error/critical/exception``.

    Every method takes the message, optional structured ``data`` (kept on the record as
    ``record.data`` and appended to the text) and ``exc_info`` as in :mod:`logging`.
    ``trace_id`` pins a trace id; by default the id of the running call is used.
    """

    def __init__(
        self,
        name: str = "iii",
        *,
        trace_id: str | None = None,
        function_path: str | None = None,
        sink: Callable[[str, str, dict[str, Any]], None] | None = None,
    ) -> None:
        if not isinstance(name, str):
            raise TypeError(f"Logger name must be a str, got {type(name).__name__}")
        self._log = logging.getLogger(name)
        self._trace_id = trace_id
        self._function_path = function_path
        self._sink = sink

    @property
    def trace_id(self) -> str | None:
        """The trace id stamped on records (the running call's when not pinned)."""
        return self._trace_id or current_trace_id()

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
        text = str(message)
        if data is not None:
            text = f"{text} {data!r}"
        prefix = f"[{trace_id[:8]}] " if trace_id else ""
        self._log.log(
            _LEVELS[level],
            prefix + text,
            exc_info=exc_info,
            stacklevel=3,
            extra={
                "trace_id": trace_id or "-",
                "function_path": self._function_path or "-",
                "data": data,
            },
        )
        if self._sink is not None:
            entry: dict[str, Any] = {"level": level, "message": str(message)}
            if trace_id:
                entry["trace_id"] = trace_id
            if self._function_path:
                entry["function_path"] = self._function_path
            if data is not None:
                entry["data"] = data
            self._sink(level, str(message), entry)


class TraceIdFilter(logging.Filter):
    """Adds ``trace_id`` and ``function_path`` to records that lack them (use on a handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "trace_id"):
            record.trace_id = current_trace_id() or "-"
        if not hasattr(record, "function_path"):
            record.function_path = "-"
        return True
