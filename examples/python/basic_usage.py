"""The user guide's "Basic Usage" example (iii SDK), run as written inside ``main()``.

Run: ``III_BRIDGE_URL=ws://127.0.0.1:49134 .venv/bin/python examples/python/basic_usage.py``
then ``curl -X POST http://127.0.0.1:3111/my-endpoint``.
"""

import asyncio

from iii import Bridge


async def main() -> None:
    # --- the guide's example, as written ---
    # Create and connect bridge
    bridge = Bridge()
    await bridge.connect()

    # Register a function
    async def my_handler(data):
        return {"result": "success"}

    bridge.register_function(
        function_path="service.action", handler=my_handler, description="My custom function"
    )

    # Register a trigger
    bridge.register_trigger(
        trigger_type="api",
        function_path="service.action",
        config={"api_path": "/my-endpoint", "http_method": "POST"},
    )
    # --- end of the guide's example ---

    await bridge.flush()
    print("ready", flush=True)
    await bridge.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
