"""Wrong types into the public API fail at the call with a clear error."""

from __future__ import annotations

from typing import Any

import pytest

from iii import Bridge


def test_bridge_rejects_bad_url() -> None:
    """A URL that is not a str, or not ws://, is refused in the constructor."""
    with pytest.raises(TypeError, match="url must be a str"):
        Bridge(123)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ws://"):
        Bridge("http://127.0.0.1:1")


def test_bridge_url_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a URL the bridge uses III_BRIDGE_URL, then ws://127.0.0.1:49134."""
    monkeypatch.delenv("III_BRIDGE_URL", raising=False)
    assert Bridge().url == "ws://127.0.0.1:49134"
    monkeypatch.setenv("III_BRIDGE_URL", "ws://10.0.0.1:1234")
    assert Bridge().url == "ws://10.0.0.1:1234"


def test_options_must_be_positive_numbers() -> None:
    """Timeouts and delays must be positive numbers."""
    with pytest.raises(TypeError, match="connect_timeout"):
        Bridge("ws://x", connect_timeout="10")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="invocation_timeout"):
        Bridge("ws://x", invocation_timeout=0)


def test_max_queued_messages_must_be_a_positive_int() -> None:
    """The send-queue bound is a positive int, named in the error."""
    with pytest.raises(TypeError, match="max_queued_messages must be an int"):
        Bridge("ws://x", max_queued_messages=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_queued_messages must be positive"):
        Bridge("ws://x", max_queued_messages=0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"function_path": 5, "handler": print}, TypeError, "function_path must be a str"),
        ({"function_path": "", "handler": print}, ValueError, "function_path must not be empty"),
        ({"function_path": "a", "handler": "nope"}, TypeError, "handler must be callable"),
        ({"function_path": "a", "handler": print, "description": 3}, TypeError, "description"),
    ],
)
def test_register_function_checks_arguments(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    """register_function names the bad argument."""
    with pytest.raises(error, match=match):
        Bridge("ws://x").register_function(**kwargs)


def test_register_trigger_checks_arguments() -> None:
    """register_trigger requires str type/path and a dict config."""
    bridge = Bridge("ws://x")
    with pytest.raises(TypeError, match="config must be a dict"):
        bridge.register_trigger("api", "a", "not a dict")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="trigger_type must be a str"):
        bridge.register_trigger(None, "a", {})  # type: ignore[arg-type]


async def test_invoke_checks_arguments() -> None:
    """invoke_function checks the path, the timeout, and that data is JSON."""
    bridge = Bridge("ws://x")
    with pytest.raises(TypeError, match="function_path"):
        await bridge.invoke_function(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout"):
        await bridge.invoke_function("a", {}, timeout=-1)
    with pytest.raises(TypeError, match="cannot send"):
        await bridge.invoke_function("a", {"x": object()})
    with pytest.raises(TypeError, match="condition_function_path"):
        bridge.register_condition("a", 1)  # type: ignore[arg-type]


def test_register_function_accepts_message_forms() -> None:
    """A RegisterFunction model or a dict works as the first argument (the Node form)."""
    from iii import RegisterFunction

    bridge = Bridge("ws://x")
    ref = bridge.register_function({"function_path": "a.b", "description": "d"}, print)
    assert ref.function_path == "a.b"
    assert bridge.register_function(RegisterFunction(function_path="a.c"), print).function_path
    with pytest.raises(TypeError, match="register_function"):
        bridge.register_function({"function_path": 3}, print)
