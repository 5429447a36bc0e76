"""The guide's condition functions (sync and async), used on event triggers.

``payment.received`` events run the handler only when ``amount > 1000``; ``user.signup``
events only when the user (from ``fetch_user``, defined here) is verified. The handler emits
``condition.passed`` with the data, so a test can see which events got through.
"""

from dataclasses import dataclass
from typing import Any

from motia import EventTrigger, FlowContext, StepConfig, step_wrapper


@dataclass
class User:
    id: str
    is_verified: bool


async def fetch_user(user_id: str | None) -> User:
    """The guide leaves this undefined: users whose id starts with ``v`` are verified."""
    return User(id=user_id or "", is_verified=bool(user_id and user_id.startswith("v")))


# --- the guide's example, as written ---
def condition_name(input: Any, ctx: FlowContext) -> bool:
    # Evaluate based on input data
    return input.get("amount", 0) > 1000


# Or async
async def async_condition(input: Any, ctx: FlowContext) -> bool:
    user = await fetch_user(input.get("user_id"))
    return user.is_verified


# --- end of the guide's example ---


config = StepConfig(
    name="ConditionsDemo",
    triggers=[
        EventTrigger(topic="payment.received", condition=condition_name),
        EventTrigger(topic="user.signup", condition=async_condition),
    ],
)


async def handler(data: Any, ctx: FlowContext) -> None:
    await ctx.emit("condition.passed", {"topic": ctx.trigger.topic, "data": data})


step_wrapper(config, __file__, handler)
