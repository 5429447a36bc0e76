"""A Python soak worker (bench/soak.mjs): serves ``soak.py.echo`` and subscribes
``soak.py.onOrder`` to ``soak.order``, marking each order it saw in state ``soak-py-delivered``
(so every acknowledged order must reach a Node and a Python subscriber)."""

import asyncio
from typing import Any

from iii import Bridge


async def main() -> None:
    bridge = Bridge(name="soak-python", forward_logs=False)

    async def echo(data: Any) -> Any:
        return data

    async def on_order(data: dict[str, Any]) -> None:
        await bridge.invoke_function(
            "state.set",
            {
                "group_id": "soak-py-delivered",
                "item_id": data["id"],
                "data": {"by": "python"},
            },
        )

    bridge.register_function("soak.py.echo", echo)
    bridge.register_function("soak.py.onOrder", on_order)
    bridge.register_trigger("event", "soak.py.onOrder", {"topic": "soak.order"})
    await bridge.connect()
    print("ready", flush=True)
    await bridge.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
