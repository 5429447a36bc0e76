"""The registration convention shared with Node Motia, and ``motia-py describe``.

For trigger ``i`` of step ``Name`` the function ``steps.Name:trigger:i`` is registered with:

* ``request_format``: the JSON Schema of an API trigger's ``body_schema`` (left out without);
* ``response_format``: ``{"<status>": <JSON Schema>}`` from its ``response_schema``;
* ``metadata.motia``: ``step``, ``app``, ``instance``, ``root``, ``pid``, ``replica`` (only when
  set), ``file``, ``runtime: "python"``, ``trigger_types``, ``flows`` / ``emits`` when declared,
  and for API triggers ``query_schema`` and ``description`` when declared.

``/__motia/openapi.json`` is built from these as ``engine.functions.list`` gives them back.
:func:`describe` gives the same records without an engine (``motia-py describe <dir>``), in
the shapes of ``engine.functions.list`` and ``engine.triggers.list``, for ``motia openapi``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .runtime import get_identity, project_root
from .schemas import Schema
from .triggers import AnyTrigger, ApiTrigger, StepConfig, trigger_config

if TYPE_CHECKING:
    from .step import Step


def function_path(step_name: str, index: int) -> str:
    """The handler's function path for trigger ``index`` of a step."""
    return f"steps.{step_name}:trigger:{index}"


def condition_path(step_name: str, index: int, k: int) -> str:
    """``...:condition`` for the first condition of a trigger, ``...:condition:{k}`` after."""
    base = f"{function_path(step_name, index)}:condition"
    return base if k == 0 else f"{base}:{k}"


def relative(file: str) -> str:
    """``file`` relative to the project folder the runner serves (as given without one)."""
    root = project_root()
    if root is None:
        return file
    try:
        return os.path.relpath(file, root)
    except ValueError:
        return file


def _metadata(config: StepConfig[Any], trigger: AnyTrigger, file: str) -> dict[str, Any]:
    motia: dict[str, Any] = {
        "step": config.name,
        **get_identity().metadata(),
        "file": relative(file),
        "runtime": "python",
        "trigger_types": [t.type for t in config.triggers],
    }
    if config.flows:
        motia["flows"] = list(config.flows)
    if config.emits:
        motia["emits"] = list(config.emits)
    if isinstance(trigger, ApiTrigger):
        query = Schema.of(trigger.query_schema)
        if query is not None:
            motia["query_schema"] = query.json_schema()
        description = trigger.description or config.description
        if description:
            motia["description"] = description
    return {"motia": motia}


def _formats(trigger: AnyTrigger) -> tuple[Any, Any]:
    if not isinstance(trigger, ApiTrigger):
        return None, None
    body = Schema.of(trigger.body_schema)
    request = body.json_schema() if body is not None else None
    responses = None
    if trigger.response_schema:
        responses = {
            str(status): Schema(schema).json_schema()
            for status, schema in sorted(trigger.response_schema.items())
        }
    return request, responses


def function_registration(
    config: StepConfig[Any], index: int, trigger: AnyTrigger, file: str
) -> dict[str, Any]:
    """``{function_path, description?, request_format?, response_format?, metadata}``."""
    request_format, response_format = _formats(trigger)
    out: dict[str, Any] = {"function_path": function_path(config.name, index)}
    if config.description is not None:
        out["description"] = config.description
    if request_format is not None:
        out["request_format"] = request_format
    if response_format is not None:
        out["response_format"] = response_format
    out["metadata"] = _metadata(config, trigger, file)
    return out


def describe(steps: Iterable[Step]) -> dict[str, list[dict[str, Any]]]:
    """The functions and triggers ``steps`` register, as the engine lists them."""
    functions: list[dict[str, Any]] = []
    triggers: list[dict[str, Any]] = []
    for step in steps:
        for index, trigger in enumerate(step.config.triggers):
            fn = function_registration(step.config, index, trigger, step.file)
            functions.append(fn)
            triggers.append(
                {
                    "trigger_type": trigger.type,
                    "function_path": fn["function_path"],
                    "config": trigger_config(trigger),
                }
            )
    return {"functions": functions, "triggers": triggers}
