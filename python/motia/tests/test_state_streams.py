"""State and streams through a real engine."""

from __future__ import annotations

from typing import Any

from iii import Bridge
from motia import StateManager, Stream


async def test_state_round_trip(bridge: Bridge) -> None:
    """set/get/get_group/list_groups/update/delete/clear work against the engine."""
    await bridge.connect()
    state = StateManager(bridge)
    first = await state.set("cfg", "theme", "dark")
    assert first["new_value"] == "dark"
    assert await state.get("cfg", "theme") == "dark"
    await state.set("cfg", "count", {"n": 1})
    await state.update("cfg", "count", [{"type": "increment", "path": "n", "by": 2}])
    assert await state.get("cfg", "count") == {"n": 3}
    assert sorted(map(str, await state.get_group("cfg"))) == sorted(map(str, ["dark", {"n": 3}]))
    assert "cfg" in await state.list_groups()
    await state.delete("cfg", "theme")
    assert await state.get("cfg", "theme") is None
    await state.clear("cfg")
    assert await state.get_group("cfg") == []


async def test_stream_round_trip(bridge: Bridge) -> None:
    """A typed Stream stores, reads, lists and deletes items."""
    await bridge.connect()
    todos: Stream[dict[str, Any]] = Stream("todos_test")
    await todos.set("inbox", "a", {"title": "Buy milk"})
    await todos.set("inbox", "b", {"title": "Walk dog"})
    item = await todos.get("inbox", "a")
    assert item is not None and item["title"] == "Buy milk"
    titles = sorted(i["title"] for i in await todos.get_group("inbox"))
    assert titles == ["Buy milk", "Walk dog"]
    assert "inbox" in await todos.list_groups()
    await todos.delete("inbox", "a")
    assert await todos.get("inbox", "a") is None
