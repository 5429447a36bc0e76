"""The guide's "Python Stream Class" snippet: ``Stream("todos")`` and its ``get`` method.

The snippet shows how ``Stream.get`` is written; here it is defined as written and called on a
real ``Stream`` (it uses the same ``_get_bridge()`` and ``stream_name`` that ``Stream`` has).
Prints the item read back, as JSON.
"""

import asyncio
import json
from typing import TypeVar

from motia import Stream, get_bridge

TData = TypeVar("TData")

# --- the guide's example, as written ---
# Define stream
todo_stream = Stream("todos")


# Get item
async def get(self, group_id: str, item_id: str) -> TData | None:
    return await self._get_bridge().invoke_function(
        "streams.get",
        {
            "stream_name": self.stream_name,
            "group_id": group_id,
            "item_id": item_id,
        },
    )


# --- end of the guide's example ---


async def main() -> None:
    bridge = get_bridge()
    await bridge.connect()
    try:
        await todo_stream.set("inbox", "item-1", {"title": "Buy milk"})
        item = await get(todo_stream, "inbox", "item-1")
        same = await todo_stream.get("inbox", "item-1")
        print(json.dumps({"snippet": item, "method": same}), flush=True)
    finally:
        await bridge.disconnect()


if __name__ == "__main__":
    asyncio.run(main())
