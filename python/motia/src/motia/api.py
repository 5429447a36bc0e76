"""HTTP request and response models for API steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

TBody = TypeVar("TBody")


class Headers(dict[str, Any]):
    """Request headers; lookups ignore case (``req.headers.get("Authorization")`` works)."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        super().__init__({str(k).lower(): v for k, v in (data or {}).items()})

    def __getitem__(self, key: str) -> Any:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass
class ApiRequest(Generic[TBody]):
    """An HTTP request as the engine delivers it to an API step: ``ApiRequest[Body]``.

    ``path`` is the registered pattern (``/users/:id``); ``path_params``, ``query_params``
    and ``headers`` are dicts (header names lower-case); ``body`` is the parsed JSON, or the
    validated value when the trigger has a ``body_schema``.

    It is also the original Motia's ``TriggerInput`` for API steps: ``req.data`` is the body,
    ``req.request`` the request itself, ``req.trigger`` the trigger that fired.
    """

    method: str = "GET"
    path: str = "/"
    path_params: dict[str, str] = field(default_factory=dict)
    query_params: Any = field(default_factory=dict)
    headers: Headers = field(default_factory=Headers)
    body: TBody | Any = None
    trigger: Any = field(default=None, repr=False, compare=False)
    """The :class:`~motia.TriggerMetadata` of the call (set by the step runner)."""

    def __post_init__(self) -> None:
        if not isinstance(self.headers, Headers):
            self.headers = Headers(self.headers)

    @property
    def data(self) -> Any:
        """The body (the original ``TriggerInput.data``)."""
        return self.body

    @property
    def request(self) -> ApiRequest[TBody]:
        """The request itself (the original ``TriggerInput.request``)."""
        return self

    @property
    def pathParams(self) -> dict[str, str]:
        """``path_params`` under the original's name."""
        return self.path_params

    @property
    def queryParams(self) -> Any:
        """``query_params`` under the original's name."""
        return self.query_params

    @classmethod
    def from_payload(cls, payload: Any) -> ApiRequest[Any]:
        """Build from the engine's ApiRequest payload ``{method, path, path_params, ...}``."""
        if isinstance(payload, ApiRequest):
            return payload
        if not isinstance(payload, dict):
            return cls(body=payload)
        return cls(
            method=str(payload.get("method") or "GET"),
            path=str(payload.get("path") or "/"),
            path_params=dict(payload.get("path_params") or {}),
            query_params=dict(payload.get("query_params") or {}),
            headers=Headers(payload.get("headers") or {}),
            body=payload.get("body"),
        )


@dataclass
class ApiResponse(Generic[TBody]):
    """What an API step returns: ``ApiResponse(status=200, body={...}, headers={...})``.

    Subscriptable (``ApiResponse[Todo]``) as the original annotated it.
    """

    status: int = 200
    body: TBody | Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.status, bool) or not isinstance(self.status, int):
            raise TypeError(f"ApiResponse status must be an int, got {type(self.status).__name__}")
        if not 100 <= self.status <= 599:
            raise ValueError(f"ApiResponse status must be 100-599, got {self.status}")
        if not isinstance(self.headers, dict):
            raise TypeError(
                f"ApiResponse headers must be a dict, got {type(self.headers).__name__}"
            )

    def to_wire(self) -> dict[str, Any]:
        """The engine's response shape ``{status, body, headers}``."""
        return {"status": self.status, "body": _jsonable(self.body), "headers": self.headers}


def _jsonable(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else value
