"""What the dead-letter queue holds, summarised without personal data (for `ttrelay dlq inspect`), and
what a redriven message must keep (for `ttrelay dlq redrive`)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ttrelay.models import CLAIM_ID, QueuedEvents


@dataclass(frozen=True, slots=True)
class ParkedMessage:
    body: str
    attributes: Mapping[str, str]  # our message attributes: reason, message, request_id
    sent_at_ms: int
    message_id: str = ""


_DETAIL_LIMIT = 3  # distinct messages per reason: enough to tell causes apart, short enough to read


@dataclass(slots=True)
class ReasonDetail:
    """What TikTok said about one reason's messages (its `message` text and request ids), never bodies."""

    count: int = 0
    messages: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)

    def add(self, attributes: Mapping[str, str]) -> None:
        self.count += 1
        message, request_id = attributes.get("message"), attributes.get("request_id")
        if message and message not in self.messages and len(self.messages) < _DETAIL_LIMIT:
            self.messages.append(message)
        if request_id and request_id not in self.request_ids and len(self.request_ids) < _DETAIL_LIMIT:
            self.request_ids.append(request_id)

    def as_dict(self) -> dict[str, object]:
        return {"count": self.count, "messages": self.messages, "request_ids": self.request_ids}


@dataclass(slots=True)
class DlqSummary:
    messages: int = 0
    events: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)
    by_reason_detail: dict[str, ReasonDetail] = field(default_factory=dict)
    by_pixel: Counter[str] = field(default_factory=Counter)
    by_event_name: Counter[str] = field(default_factory=Counter)
    request_ids: dict[str, None] = field(default_factory=dict)  # distinct, first seen first
    parked: list[dict[str, object]] = field(default_factory=list)
    oldest_ms: int | None = None
    newest_ms: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "messages": self.messages,
            "events": self.events,
            "by_reason": dict(self.by_reason.most_common()),
            # Per reason, TikTok's message and request ids: what to quote to TikTok support, and what
            # tells a wrong token (40001) from a wrong pixel (40002) before a redrive.
            "by_reason_detail": {
                reason: self.by_reason_detail[reason].as_dict() for reason, _ in self.by_reason.most_common()
            },
            "by_pixel": dict(self.by_pixel.most_common()),
            "by_event_name": dict(self.by_event_name.most_common()),
            # One TikTok request covers the events of several messages: each id once.
            "tiktok_request_ids": list(self.request_ids)[:20],
            "oldest_sent_at_ms": self.oldest_ms,
            "newest_sent_at_ms": self.newest_ms,
            # Which orders are parked: per message, its events' ids and names (never their data).
            "parked": self.parked,
        }


def parked_message(message: Mapping[str, Any]) -> ParkedMessage:
    """A message as SQS's ReceiveMessage returns it (with message attributes and SentTimestamp)."""
    attributes = message.get("MessageAttributes", {})
    return ParkedMessage(
        body=message["Body"],
        attributes={name: value.get("StringValue", "") for name, value in attributes.items()},
        sent_at_ms=int(message.get("Attributes", {}).get("SentTimestamp", 0)),
        message_id=message.get("MessageId", ""),
    )


def summarise(messages: Iterable[ParkedMessage]) -> DlqSummary:
    summary = DlqSummary()
    for message in messages:
        summary.messages += 1
        # Messages that exhausted maxReceiveCount carry no reason of ours: SQS moved them.
        reason = message.attributes.get("reason", "max_receive_count_exceeded")
        summary.by_reason[reason] += 1
        summary.by_reason_detail.setdefault(reason, ReasonDetail()).add(message.attributes)
        if request_id := message.attributes.get("request_id"):
            summary.request_ids[request_id] = None
        summary.oldest_ms = min(filter(None, (summary.oldest_ms, message.sent_at_ms)), default=None)
        summary.newest_ms = max(filter(None, (summary.newest_ms, message.sent_at_ms)), default=None)
        listed: dict[str, object] = {"message_id": message.message_id, "reason": reason}
        summary.parked.append(listed)
        try:
            envelope = QueuedEvents.model_validate_json(message.body)
        except ValidationError:
            summary.by_pixel["(unreadable)"] += 1
            listed["pixel"] = "(unreadable)"
            continue
        summary.events += len(envelope.events)
        summary.by_pixel[envelope.pixel_code] += len(envelope.events)
        summary.by_event_name.update(event.event for event in envelope.events)
        listed["pixel"] = envelope.pixel_code
        listed["events"] = [{"event_id": event.event_id, "event": event.event} for event in envelope.events]
    return summary


def with_claim_id(body: str, message_id: str) -> str:
    """The body to redrive. A message queued before claim_id existed is owned in the dedup table by its
    SQS message id, which SQS keeps when it moves the message to the DLQ but a redrive, a new message,
    does not: the id goes into the body, so the redriven copy still finds its own claims."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return body  # not ours to repair: the forwarder parks it again as malformed
    if not isinstance(envelope, dict) or envelope.get("claim_id"):
        return body
    if not message_id or not CLAIM_ID.fullmatch(message_id):
        return body  # never an id the model would refuse
    return json.dumps({**envelope, "claim_id": message_id}, separators=(",", ":"))


# A redriven message must still be judged while the table remembers its events: its retries after the
# redrive (up to about 3 h at MaxReceiveCount 14) and copies of its events confirmed a little before it was
# received fit well inside a day.
REDRIVE_MARGIN_SECONDS = 24 * 3600


def outlived_dedup_memory(body: str, now: float, ttl_seconds: float) -> bool:
    """Whether the dedup table may have forgotten that TikTok accepted some of this message's events.

    A confirmation is remembered for the TTL from when it was written, which is after the collector
    received the message (`received_at`, kept through parking and redrive): so a message younger than
    the TTL, less the margin, can be redriven without resending a confirmed event. An unreadable body has
    nothing to resend (the forwarder parks it again as malformed)."""
    try:
        received_at = json.loads(body).get("received_at")
    except (ValueError, AttributeError):
        return False
    if not isinstance(received_at, int | float):
        return False
    return now - received_at > ttl_seconds - REDRIVE_MARGIN_SECONDS
