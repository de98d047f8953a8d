"""One POST /events exchange as the local front saw it, kept for the inspector without secrets or PII.

Kept: who sent it (the Origin, or only the fact that an API key was used), cookie names (never values),
each event's name, event_id and declared source, and the response minus the click-id token. Not kept:
the body's user fields, consent strings, page URLs, header values that authenticate.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, get_args

from ttrelay.models import EventSource

_TEXT_LIMIT = 300  # a hostile or buggy client cannot make the inspector hold megabytes per request
_LIST_LIMIT = 100
# A tuple, not a set: the body's value may be a list or an object, which a set cannot look up.
_EVENT_SOURCES: tuple[str, ...] = get_args(EventSource)


@dataclass(frozen=True, slots=True)
class SentEvent:
    index: int
    event: str | None
    event_id: str | None
    source: EventSource | None = None  # only a value the collector knows; it rejects any other


@dataclass(frozen=True, slots=True)
class CollectExchange:
    request_id: str  # the collect invocation's aws_request_id: joins the handler's log line
    received_at: float
    path: str
    status: int
    sender: Mapping[str, object]
    cookie_names: tuple[str, ...]
    events: tuple[SentEvent, ...]
    response: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        request_id: str,
        received_at: float,
        path: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        status: int,
        response_body: bytes,
    ) -> CollectExchange:
        lowered = [(name.lower(), value) for name, value in headers]
        return cls(
            request_id=request_id,
            received_at=received_at,
            path=path,
            status=status,
            sender=_sender(dict(lowered)),
            cookie_names=_cookie_names(value for name, value in lowered if name == "cookie"),
            events=_sent_events(body),
            response=_safe_response(response_body),
        )


def _sender(headers: Mapping[str, str]) -> dict[str, object]:
    if origin := headers.get("origin"):
        return {"kind": "browser", "origin": _text(origin)}
    if headers.get("authorization"):
        return {"kind": "backend", "api_key": True}
    return {"kind": "unknown"}


def _cookie_names(cookie_headers: Iterable[str]) -> tuple[str, ...]:
    names = (part.split("=", 1)[0].strip() for header in cookie_headers for part in header.split(";"))
    return tuple(sorted({_text(name) for name in names if name}))[:_LIST_LIMIT]


def _sent_events(body: bytes) -> tuple[SentEvent, ...]:
    """Each event's name and id; the collector validates the body, this only reads what is readable."""
    document = _json(body)
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list):
        return ()
    return tuple(
        SentEvent(
            index,
            _optional_text(item.get("event")),
            _optional_text(item.get("event_id")),
            item.get("source") if item.get("source") in _EVENT_SOURCES else None,
        )
        if isinstance(item, dict)
        else SentEvent(index, None, None)
        for index, item in enumerate(events[:1000])
    )


def _safe_response(raw: bytes) -> dict[str, Any]:
    document = _json(raw)
    if not isinstance(document, dict):
        return {}
    safe: dict[str, Any] = {
        key: document[key] for key in ("accepted", "dropped", "decision", "error") if key in document
    }
    # The token is a signed click-id cookie value: say whether one was issued, never what it is.
    if "token" in document:
        safe["token_issued"] = document["token"] is not None
    for key in ("errors", "rejected", "warnings"):
        if isinstance(items := document.get(key), list):
            safe[key] = [_bounded(item) for item in items[:_LIST_LIMIT]]
    return safe


def _bounded(value: object) -> object:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list):
        return [_bounded(item) for item in value[:_LIST_LIMIT]]
    if isinstance(value, dict):
        return {str(key): _bounded(item) for key, item in value.items()}
    return value


def _json(raw: bytes) -> object:
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return None


def _optional_text(value: object) -> str | None:
    return _text(value) if isinstance(value, str) else None


def _text(value: str) -> str:
    return value if len(value) <= _TEXT_LIMIT else value[:_TEXT_LIMIT] + "…"
