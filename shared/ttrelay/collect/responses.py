"""Pydantic models of what POST /events answers: 202 with the consent decision, or a 4xx error list.

The collector builds its bodies through these models, so docs/openapi.json (generated from them)
documents exactly what is sent. Dump with `exclude_unset=True`: optional fields are left out, not null.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from ttrelay.consent.model import Action, Regime


class _Body(BaseModel):
    # A key not declared here would be sent undocumented; forbidding it makes tests catch that.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _left_out_when_unknown(description: str) -> Any:
    """An optional key that is omitted, never null: the schema shows neither null nor a null default."""
    return Field(default=None, description=description, json_schema_extra=_without_default)


def _without_default(schema: JsonDict) -> None:
    schema.pop("default", None)


class ErrorDetail(_Body):
    """One problem with the request; never carries the submitted value (no PII is echoed)."""

    loc: str | SkipJsonSchema[None] = _left_out_when_unknown(
        "Dotted path, e.g. events.0.event; a key the sender chose is shown as <key>"
    )
    type: str | SkipJsonSchema[None] = _left_out_when_unknown("Machine-readable error type")
    msg: str


class RejectedEvent(_Body):
    """An unusable event of an otherwise accepted request: it is skipped, the others are not."""

    index: int = Field(ge=0, description="Position in the request's `events`")
    event_id: str | None
    errors: list[ErrorDetail]


class EventWarning(_Body):
    """Something left out or ignored. With `index`: a field of that event, which was still sent.
    Without `index` (and `event_id`): the request itself, e.g. an unknown top-level field."""

    index: Annotated[int, Field(ge=0)] | SkipJsonSchema[None] = Field(
        default=None,
        description="Position in the request's `events`; left out for a warning about the request",
        json_schema_extra=_without_default,
    )
    event_id: str | None = Field(
        default=None,
        description="The event's id (null when it had none); present exactly when `index` is",
        json_schema_extra=_without_default,
    )
    loc: str = Field(
        description="Dotted path, e.g. events.0.properties.currency or user.email; a key the sender chose "
        "is shown as <key>"
    )
    msg: str


class DecisionSummary(_Body):
    action: Action
    regime: Regime
    reason: str


class CollectAccepted(_Body):
    """202: the request was judged, event by event.

    `accepted` events are queued, `dropped` ones were refused by consent, `rejected` ones were unusable:
    the three add up to the request's events."""

    accepted: int = Field(ge=0)
    dropped: int = Field(ge=0)
    rejected: list[RejectedEvent] = Field(
        default_factory=list, description="Unusable events; left out when there are none"
    )
    warnings: list[EventWarning] = Field(
        default_factory=list,
        description="Fields left out of events that were still sent, and what the request sent that was "
        "ignored or unusable; left out when there are none",
    )
    decision: DecisionSummary
    token: str | None = Field(
        description="The signed click-id cookie value; null unless consent allows storage"
    )


class CollectError(_Body):
    """Every 4xx: a stable `error` code and the details behind it."""

    error: str = Field(description="e.g. invalid_json, invalid_request, origin_not_allowed, body_too_large")
    errors: list[ErrorDetail]
