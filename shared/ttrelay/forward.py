"""The forward use case: a batch of queued messages in, Events API requests out, failures reported.

Every event is claimed in the dedup store before it is sent and marked delivered only after TikTok's
body `code` confirms it, so a redelivered message never causes a second effective delivery.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import ValidationError

from ttrelay.dedup import ClaimResult, DedupStore, dedup_key
from ttrelay.events_api import Classification, Verdict
from ttrelay.hashing import HASHED_USER_FIELDS, hash_user_field
from ttrelay.models import QueuedEvents, TikTokEvent


@dataclass(frozen=True, slots=True)
class InboundMessage:
    message_id: str
    body: str


class EventsApi(Protocol):
    def send(self, pixel_code: str, body: dict[str, object]) -> Classification: ...


class DeadLetters(Protocol):
    def park(self, body: str, reason: str, detail: dict[str, str]) -> None: ...


@dataclass(slots=True)
class ForwardReport:
    failed_message_ids: set[str] = field(default_factory=set)
    delivered: int = 0
    duplicates: int = 0
    parked: int = 0
    requests: int = 0
    outcomes: list[Classification] = field(default_factory=list)


@dataclass(slots=True)
class _Pending:
    """One claimed event and every message of this batch that carries it."""

    key: str
    event: TikTokEvent
    message_ids: list[str]
    envelope: QueuedEvents


@dataclass(frozen=True, slots=True)
class Forwarder:
    dedup: DedupStore
    events_api: EventsApi
    dead_letters: DeadLetters
    owner: str
    test_event_code: str = ""
    max_events_per_request: int = 1000
    clock: Callable[[], float] = time.time

    def forward(self, messages: Iterable[InboundMessage]) -> ForwardReport:
        report = ForwardReport()
        pending: dict[str, _Pending] = {}
        for message in messages:
            envelope = self._parse(message, report)
            if envelope is not None:
                self._claim(message.message_id, envelope, pending, report)
        by_pixel: dict[str, list[_Pending]] = {}
        for item in pending.values():
            by_pixel.setdefault(item.envelope.pixel_code, []).append(item)
        for pixel, items in by_pixel.items():
            for start in range(0, len(items), self.max_events_per_request):
                self._send(pixel, items[start : start + self.max_events_per_request], report)
        return report

    def _parse(self, message: InboundMessage, report: ForwardReport) -> QueuedEvents | None:
        try:
            envelope = QueuedEvents.model_validate_json(message.body)
        except ValidationError:
            # A body we cannot read never succeeds: park it now, not after maxReceiveCount retries.
            self.dead_letters.park(message.body, "malformed_message", {"message_id": message.message_id})
            report.parked += 1
            return None
        for event in envelope.events:
            _rehash(event)
        return envelope

    def _claim(
        self, message_id: str, envelope: QueuedEvents, pending: dict[str, _Pending], report: ForwardReport
    ) -> None:
        now = self.clock()
        for event in envelope.events:
            key = dedup_key(envelope.pixel_code, event.event, event.event_id)
            if key in pending:  # the same event twice in one batch: send once, share the outcome
                pending[key].message_ids.append(message_id)
                report.duplicates += 1
                continue
            result = self.dedup.claim(key, self.owner, now)
            if result is ClaimResult.CLAIMED:
                pending[key] = _Pending(key, event, [message_id], envelope)
            elif result is ClaimResult.DELIVERED:
                report.duplicates += 1
            else:
                report.failed_message_ids.add(message_id)

    def _send(self, pixel: str, items: Sequence[_Pending], report: ForwardReport) -> None:
        body: dict[str, object] = {
            "event_source": "web",
            "event_source_id": pixel,
            "data": [item.event.model_dump(mode="json", exclude_none=True) for item in items],
        }
        if self.test_event_code:
            body["test_event_code"] = self.test_event_code
        outcome = self.events_api.send(pixel, body)
        report.requests += 1
        report.outcomes.append(outcome)
        keys = [item.key for item in items]
        if outcome.verdict in (Verdict.SUCCESS, Verdict.PARTIAL):
            self.dedup.mark_delivered(keys, self.clock())
            report.delivered += len(items)
            return
        self.dedup.release(keys, self.owner)
        if outcome.verdict is Verdict.RETRY:
            for item in items:
                report.failed_message_ids.update(item.message_ids)
            return
        self._park(items, outcome, report)

    def _park(self, items: Sequence[_Pending], outcome: Classification, report: ForwardReport) -> None:
        """Permanent failures go to the DLQ with TikTok's reason; redrive re-sends them once fixed."""
        detail = {
            "reason": outcome.reason,
            "message": outcome.message,
            "request_id": outcome.request_id or "",
        }
        groups: dict[int, list[_Pending]] = {}
        for item in items:
            groups.setdefault(id(item.envelope), []).append(item)
        for group in groups.values():
            envelope = group[0].envelope.model_copy(update={"events": [item.event for item in group]})
            self.dead_letters.park(envelope.model_dump_json(exclude_none=True), outcome.reason, detail)
            report.parked += len(group)


def _rehash(event: TikTokEvent) -> None:
    """Hash again: a no-op on the collector's 64-hex digests, a safeguard for direct producers."""
    for name in HASHED_USER_FIELDS:
        values = getattr(event.user, name)
        if values:
            setattr(event.user, name, hash_user_field(name, values) or None)
