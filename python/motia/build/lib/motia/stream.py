"""Distributed streams (the engine's ``streams.*`` functions)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from iii import Bridge

from ._checks import check_id
from .runtime import get_bridge

TData = TypeVar("TData")


class Stream(Generic[TData]):
    """A named stream of items grouped by ``group_id``: ``Stream[Todo]("todos")``.

    The bridge is looked up lazily (the default bridge unless one is given), so a stream can be
    declared at import time. ``set`` and ``update`` return the engine's
    ``{old_value, new_value}``.
    """

    def __init__(self, stream_name: str, *, bridge: Bridge | None = None) -> None:
        check_id("stream_name", stream_name)
        self.stream_name = stream_name
        self._bridge = bridge

    def _get_bridge(self) -> Bridge:
        return self._bridge or get_bridge()

    async def get(self, group_id: str, item_id: str) -> TData | None:
        """The item, or ``None``."""
        check_id("group_id", group_id)
        check_id("item_id", item_id)
        return await self._get_bridge().invoke_function(  # type: ignore[no-any-return]
            "streams.get",
            {
                "stream_name": self.stream_name,
                "group_id": group_id,
                "item_id": item_id,
            },
        )

    async def set(self, group_id: str, item_id: str, data: TData) -> Any:
        """Store an item; returns ``{old_value, new_value}``."""
        check_id("group_id", group_id)
        check_id("item_id", item_id)
        return await self._call("streams.set", group_id=group_id, item_id=item_id, data=data)

    async def delete(self, group_id: str, item_id: str) -> TData | None:
        """Remove an item; returns it, or ``None``."""
        check_id("group_id", group_id)
        check_id("item_id", item_id)
        return await self._call(  # type: ignore[no-any-return]
            "streams.delete", group_id=group_id, item_id=item_id
        )

    async def get_group(self, group_id: str) -> list[TData]:
        """Every item in a group."""
        check_id("group_id", group_id)
        return list(await self._call("streams.getGroup", group_id=group_id) or [])

    async def list_groups(self) -> list[str]:
        """Every group id of the stream."""
        return list(await self._call("streams.listGroups") or [])

    async def update(self, group_id: str, item_id: str, ops: list[dict[str, Any]]) -> Any:
        """Apply update ops atomically; returns ``{old_value, new_value}``."""
        check_id("group_id", group_id)
        check_id("item_id", item_id)
        return await self._call("streams.update", group_id=group_id, item_id=item_id, ops=ops)

    async def _call(self, path: str, **fields: Any) -> Any:
        return await self._get_bridge().invoke_function(
            path, {"stream_name": self.stream_name, **fields}
        )

    def __repr__(self) -> str:
        return f"Stream({self.stream_name!r})"


class Streams:
    """``ctx.streams["todos"]`` (or ``ctx.streams.todos``) is ``Stream("todos")``."""

    def __init__(self, bridge: Bridge | None = None) -> None:
        self._bridge = bridge
        self._cache: dict[str, Stream[Any]] = {}

    def __getitem__(self, name: str) -> Stream[Any]:
        if name not in self._cache:
            self._cache[name] = Stream(name, bridge=self._bridge)
        return self._cache[name]

    def __getattr__(self, name: str) -> Stream[Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(name)
