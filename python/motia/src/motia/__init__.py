"""motia: declarative steps (api, event, cron, state, stream) for Python workers on iii."""

__version__ = "0.1.0"

from .api import ApiRequest, ApiResponse, Headers
from .context import (
    FlowContext,
    StateTriggerInput,
    StreamTriggerInput,
    TriggerData,
    TriggerInput,
    TriggerMetadata,
)
from .create import create_project
from .errors import MotiaConfigError
from .guard import AppIdentity, StepNameTakenError
from .runtime import get_bridge, set_bridge
from .state import StateManager
from .step import (
    Step,
    compose_middleware,
    condition_path,
    function_path,
    registered_steps,
    step_wrapper,
)
from .stream import Stream, Streams
from .triggers import (
    ApiMiddleware,
    ApiTrigger,
    CronTrigger,
    EventTrigger,
    StateTrigger,
    StepConfig,
    StreamTrigger,
    TriggerCondition,
)

_compose_middleware = compose_middleware

__all__ = [
    "ApiMiddleware",
    "ApiRequest",
    "ApiResponse",
    "ApiTrigger",
    "AppIdentity",
    "CronTrigger",
    "EventTrigger",
    "FlowContext",
    "Headers",
    "MotiaConfigError",
    "StateManager",
    "StateTrigger",
    "StateTriggerInput",
    "Step",
    "StepConfig",
    "StepNameTakenError",
    "Stream",
    "StreamTrigger",
    "StreamTriggerInput",
    "Streams",
    "TriggerCondition",
    "TriggerData",
    "TriggerInput",
    "TriggerMetadata",
    "__version__",
    "_compose_middleware",
    "compose_middleware",
    "condition_path",
    "create_project",
    "function_path",
    "get_bridge",
    "registered_steps",
    "set_bridge",
    "step_wrapper",
]
