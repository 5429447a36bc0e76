"""Protocol models against the shared test vectors (protocol/vectors.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from iii import InvocationResult, InvokeFunction, ProtocolError, RegisterFunction, encode_frame
from iii.messages import MESSAGE_CLASSES, parse_frame

VECTORS = json.loads(
    (Path(__file__).resolve().parents[3] / "protocol" / "vectors.json").read_text()
)


def _subset(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _subset(v, actual[k]) for k, v in expected.items()
        )
    return bool(expected == actual)


@pytest.mark.parametrize("case", VECTORS["valid"], ids=lambda c: c["name"])
def test_valid_vector_parses(case: dict[str, Any]) -> None:
    """Every valid vector decodes to its type's model with the listed fields."""
    frame = case["frame"]
    msg = parse_frame(json.dumps(frame))
    assert isinstance(msg, MESSAGE_CLASSES[frame["type"]])
    dumped = msg.model_dump(mode="json")
    known = {k: v for k, v in frame.items() if k in type(msg).model_fields}
    assert _subset(known, dumped)


@pytest.mark.parametrize("case", VECTORS["valid"], ids=lambda c: c["name"])
def test_valid_vector_round_trips(case: dict[str, Any]) -> None:
    """Encoding a parsed vector and parsing it again gives the same model."""
    msg = parse_frame(json.dumps(case["frame"]))
    assert parse_frame(encode_frame(msg)) == msg


@pytest.mark.parametrize("case", VECTORS["invalid"], ids=lambda c: c["name"])
def test_invalid_vector_refused(case: dict[str, Any]) -> None:
    """Every invalid raw text is refused with the listed code."""
    with pytest.raises(ProtocolError) as info:
        parse_frame(case["raw"])
    assert info.value.code == case["code"]


def test_vectors_cover_every_message_type() -> None:
    """The vectors exercise every frame type the SDK models."""
    seen = {case["frame"]["type"] for case in VECTORS["valid"]}
    assert seen == set(MESSAGE_CLASSES)


def test_encoding_keeps_null_data_and_drops_unset_fields() -> None:
    """``data: null`` stays on an invoke; unset optional fields are left out."""
    text = encode_frame(InvokeFunction(function_path="a.b"))
    assert json.loads(text) == {"type": "invokefunction", "function_path": "a.b", "data": None}
    assert json.loads(encode_frame(RegisterFunction(function_path="x"))) == {
        "type": "registerfunction",
        "function_path": "x",
    }


def test_error_result_has_no_result_field() -> None:
    """An error result carries ``error`` and no ``result``."""
    msg = InvocationResult.model_validate(
        {"invocation_id": "1", "function_path": "a", "error": {"code": "x", "message": "m"}}
    )
    assert json.loads(encode_frame(msg)) == {
        "type": "invocationresult",
        "invocation_id": "1",
        "function_path": "a",
        "error": {"code": "x", "message": "m"},
    }
