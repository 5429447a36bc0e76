"""The Bridge's options, each checked once with one precise sentence.

The defaults are in one place: the signature of :class:`~iii.Bridge`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .validate import check_number, check_str

DEFAULT_URL = "ws://127.0.0.1:49134"
DEFAULT_MAX_QUEUED_MESSAGES = 10_000


@dataclass(frozen=True, slots=True)
class BridgeOptions:
    """Validated :class:`~iii.Bridge` options (see the Bridge for what each one does)."""

    url: str
    name: str | None
    connect_timeout: float
    invocation_timeout: float
    reconnect: bool
    reconnect_initial_delay: float
    reconnect_max_delay: float
    max_queued_messages: int
    forward_logs: bool
    log_format: str = "text"
    token: str | None = field(default=None, repr=False)

    @classmethod
    def check(cls, url: Any, **options: Any) -> BridgeOptions:
        """Resolve ``url`` (``None``: ``III_BRIDGE_URL``, else :data:`DEFAULT_URL`) and check
        every option; raise ``TypeError`` / ``ValueError`` naming the first bad one."""
        if url is not None and not isinstance(url, str):
            raise TypeError(f"Bridge url must be a str or None, got {type(url).__name__}")
        url = url or os.environ.get("III_BRIDGE_URL") or DEFAULT_URL
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"Bridge url must start with ws:// or wss://, got {url!r}")
        check_str("name", options.get("name"), optional=True)
        check_str("token", options.get("token"), optional=True)
        options["token"] = options.get("token") or os.environ.get("III_TOKEN") or None
        for key in (
            "connect_timeout",
            "invocation_timeout",
            "reconnect_initial_delay",
            "reconnect_max_delay",
        ):
            check_number(key, options[key])
            options[key] = float(options[key])
        limit = options["max_queued_messages"]
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise TypeError(f"max_queued_messages must be an int, got {type(limit).__name__}")
        if limit < 1:
            raise ValueError(f"max_queued_messages must be positive, got {limit}")
        options["reconnect"] = bool(options["reconnect"])
        options["forward_logs"] = bool(options["forward_logs"])
        log_format = options.get("log_format")
        if log_format is None:
            log_format = (
                "json" if os.environ.get("III_LOG_FORMAT", "").lower() == "json" else "text"
            )
        if log_format not in ("text", "json"):
            raise ValueError(f"log_format must be 'text' or 'json', got {log_format!r}")
        options["log_format"] = log_format
        return cls(url=url, **options)
