"""motia: declarative steps (API, event, cron) for Python workers on the iii engine."""

__version__ = "0.1.0"

from .api import ApiRequest, ApiResponse, Headers
from .context import FlowContext, TriggerInput, TriggerMetadata
from .runtime import get_bridge, set_bridge
from .state import StateManager
from .step import (
    Step,
    _compose_middleware,
    compose_middleware,
    condition_path,
    function_path,
    registered_steps,
    step_wrapper,
)
from .stream import Stream, Streams
from .triggers import ApiTrigger, CronTrigger, EventTrigger, StepConfig

__all__ = [
    "ApiRequest",
    "ApiResponse",
    "ApiTrigger",
    "CronTrigger",
    "EventTrigger",
    "FlowContext",
    "Headers",
    "StateManager",
    "Step",
    "StepConfig",
    "Stream",
    "Streams",
    "TriggerInput",
    "TriggerMetadata",
    "__version__",
    "_compose_middleware",
    "compose_middleware",
    "condition_path",
    "function_path",
    "get_bridge",
    "registered_steps",
    "set_bridge",
    "step_wrapper",
]
