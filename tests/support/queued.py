"""A queued message's events as the forwarder sends them: tests of what TikTok gets read them here.

Since message v2 the request's visitor, page and `user` are queued once per message (`shared`); only
QueuedEvents.api_event puts them into each event, so reading `events[i].user` would miss them."""

from collections.abc import Mapping
from typing import Any

from ttrelay.models import QueuedEvents


def sent_events(message: str | Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Events API `data[]` items of a queued message (its JSON body or that body parsed)."""
    envelope = (
        QueuedEvents.model_validate_json(message)
        if isinstance(message, str)
        else QueuedEvents.model_validate(message)
    )
    return [event.model_dump(mode="json", exclude_none=True) for event in envelope.api_events()]
