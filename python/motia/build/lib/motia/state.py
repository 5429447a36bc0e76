"""Key/value state shared by all workers (the engine's ``state.*`` functions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from iii import Bridge

from ._checks import check_id
from .runtime import get_bridge


class StateManager:
    """``await state.set(group_id, item_id, value)``, ``get``, ``delete``, ``get_group``, ...

    ``set`` and ``update`` return the engine's ``{old_value, new_value}``.
    """

    def __init__(self, bridge: Bridge | Callable[[], Bridge] | None = None) -> None:
        self._bridge = bridge

    def _get_bridge(self) -> Bridge:
        if isinstance(self._bridge, Bridge):
            return self._bridge
        return self._bridge() if self._bridge is not None else get_bridge()

    async def get(self, group_id: str, item_id: str) -> Any:
        """The value stored under ``group_id``/``item_id``, or ``None``."""
        check_id("group_id", group_id)
        check_id("item_id", item_id)
        return await self._call("state.get", {"group_id": group_id, "item_id": item_id})

    async def set(self, group_id: str, item_id: str, data: Any) -> Any:
        """Store ``data``; returns ``{old_value, new_value}``."""
        check_id("group_id", group_id)
        check_id("item_id", item_id)
        return await self._call(
            "state.set", {"group_id": group_id, "item_id": item_id, "data": data}
        )

    async def delete(self, group_id: str, item_id: str) -> Any:
        """Remove an item; returns the removed value or ``None``."""
        check_id("group_id", group_id)
        check_id("item_id", item_id)
        return await self._call("state.delete", {"group_id": group_id, "item_id": item_id})

    async def get_group(self, group_id: str) -> list[Any]:
        """Every value in a group."""
        check_id("group_id", group_id)
        return list(await self._call("state.getGroup", {"group_id": group_id}) or [])

    async def list_groups(self) -> list[str]:
        """Every group id."""
        return list(await self._call("state.listGroups", {}) or [])

    async def clear(self, group_id: str) -> Any:
        """Remove every item of a group."""
        check_id("group_id", group_id)
        return await self._call("state.clear", {"group_id": group_id})

    async def update(self, group_id: str, item_id: str, ops: list[dict[str, Any]]) -> Any:
        """Apply update ops atomically (set, merge, increment, decrement, remove)."""
        check_id("group_id", group_id)
        check_id("item_id", item_id)
        if not isinstance(ops, list):
            raise TypeError(f"ops must be a list, got {type(ops).__name__}")
        return await self._call(
            "state.update", {"group_id": group_id, "item_id": item_id, "ops": ops}
        )

    async def _call(self, path: str, data: dict[str, Any]) -> Any:
        return await self._get_bridge().invoke_function(path, data)
