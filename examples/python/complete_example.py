"""The user guide's "Complete Examples / Python Example", run as written inside ``main()``.

The handler gets the engine's ApiRequest (``{method, path, path_params, query_params,
headers, body}``) as ``data``, so the created "user" echoes the request fields next to ``id``.
"""

import asyncio

from iii import Bridge


async def main() -> None:
    # --- the guide's example, as written ---
    # Create bridge
    bridge = Bridge()

    # Register function
    async def create_user(data):
        user = {"id": "123", **data}
        return {"status": 201, "body": user}

    bridge.register_function(function_path="users.create", handler=create_user)

    # Register API trigger
    bridge.register_trigger(
        trigger_type="api",
        function_path="users.create",
        config={"api_path": "/users", "http_method": "POST"},
    )

    # Connect and run
    await bridge.connect()
    # --- end of the guide's example ---

    print("ready", flush=True)
    await bridge.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
