"""Request schemas of API steps: validation with Pydantic, Node Motia's 400 body, JSON Schema.

A schema is a Pydantic model class or any type Pydantic can validate (``list[Item]``,
``dict[str, int]``, a ``TypedDict``...). The same schema validates the request and gives the
JSON Schema registered with the step's function (``request_format``, ``response_format``,
``metadata.motia.query_schema``), from which ``/__motia/openapi.json`` is built.

Issue codes are Zod's (Node Motia validates with Zod) where Pydantic has an equivalent, so a
client sees the same ``code`` whichever language served the route; others keep Pydantic's
error type. ``path`` and ``message`` are Pydantic's location and message.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.errors import PydanticSchemaGenerationError

# Pydantic error type -> Zod issue code.
_ZOD_CODES = {
    "missing": "invalid_type",
    "none_required": "invalid_type",
    "too_short": "too_small",
    "string_too_short": "too_small",
    "bytes_too_short": "too_small",
    "greater_than": "too_small",
    "greater_than_equal": "too_small",
    "too_long": "too_big",
    "string_too_long": "too_big",
    "bytes_too_long": "too_big",
    "less_than": "too_big",
    "less_than_equal": "too_big",
    "string_pattern_mismatch": "invalid_format",
    "url_parsing": "invalid_format",
    "uuid_parsing": "invalid_format",
    "multiple_of": "not_multiple_of",
    "extra_forbidden": "unrecognized_keys",
    "literal_error": "invalid_value",
    "enum": "invalid_value",
    "union_tag_invalid": "invalid_union",
    "union_tag_not_found": "invalid_union",
    "value_error": "custom",
    "assertion_error": "custom",
}


def zod_code(pydantic_type: str) -> str:
    """The Zod issue code for a Pydantic error type (its own name when Zod has none)."""
    if pydantic_type in _ZOD_CODES:
        return _ZOD_CODES[pydantic_type]
    if pydantic_type.endswith(("_type", "_parsing")):
        return "invalid_type"
    return pydantic_type


@cache
def _adapter(schema: Any) -> TypeAdapter[Any]:
    return TypeAdapter(schema)


def check_schema(schema: Any) -> Any:
    """Return ``schema`` if Pydantic can validate it; raise ``ValueError`` naming it if not."""
    if isinstance(schema, dict):
        raise ValueError(
            "schemas must be Pydantic models or types; a JSON Schema dict cannot validate "
            "requests here (wrap it in a model)"
        )
    try:
        _adapter(schema)
    except (PydanticSchemaGenerationError, TypeError) as exc:
        raise ValueError(f"{schema!r} is not a type Pydantic can validate: {exc}") from None
    return schema


@dataclass(frozen=True, slots=True)
class Schema:
    """A validating schema: ``validate(value)`` and ``json_schema()``."""

    type: Any

    @classmethod
    def of(cls, schema: Any) -> Schema | None:
        """``Schema(schema)``, or ``None`` for no schema."""
        return None if schema is None else cls(schema)

    def validate(self, value: Any) -> tuple[bool, Any]:
        """``(True, parsed)`` or ``(False, issues)`` with issues as Node Motia gives them."""
        try:
            return True, _adapter(self.type).validate_python(value)
        except ValidationError as exc:
            return False, issues(exc)

    def json_schema(self) -> dict[str, Any]:
        """The schema as JSON Schema (Pydantic's ``model_json_schema()`` for models)."""
        if isinstance(self.type, type) and issubclass(self.type, BaseModel):
            return self.type.model_json_schema()
        return _adapter(self.type).json_schema()


def issues(exc: ValidationError) -> list[dict[str, Any]]:
    """``[{path, message, code}]``: a Pydantic error list in Node Motia's issue shape."""
    return [
        {"path": list(err["loc"]), "message": err["msg"], "code": zod_code(err["type"])}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def validation_failed(where: str, found: list[dict[str, Any]]) -> dict[str, Any]:
    """The 400 answer Node Motia gives: ``{error: "validation_failed", in, issues}``."""
    return {"status": 400, "body": {"error": "validation_failed", "in": where, "issues": found}}
