"""The forward use case: a batch of queued messages in, Events API requests out, failures reported.

Every event is claimed in the dedup store before it is sent, and recorded as delivered as soon as
TikTok's body `code` confirms its request (a delivered mark per event under a lease, a receipt per
request when the claim belongs to the message), so a redelivered message never sends a confirmed event
again (docs/delivery.md has the modes, the states and why each crash point is safe).
"""

from __future__ import annotations

import dataclasses
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, KeysView, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import batched
from typing import Protocol

from pydantic import ValidationError

from ttrelay.forward.dedup import RECEIPT_PREFIX, Claim, ClaimResult, DedupMode, DedupStore, dedup_key
from ttrelay.forward.events_api import MAINTENANCE_CODE, Classification, Verdict
from ttrelay.forward.redelivery import RetryReason, retry_reason
from ttrelay.models import QueuedEvents, TikTokEvent, TikTokUser
from ttrelay.observability.pixel_tally import PixelTally, TimedAnswer
from ttrelay.privacy.hashing import HASHED_USER_FIELDS, hash_user_field

BISECT_CAPPED = "bisect_capped"  # DLQ reason suffix: parked before the bad events were isolated


@dataclass(frozen=True, slots=True)
class InboundMessage:
    message_id: str
    body: str
    receive_count: int = 1  # SQS's ApproximateReceiveCount: this is the message's n-th delivery


class EventsApi(Protocol):
    def send(self, pixel_code: str, body: dict[str, object]) -> Classification: ...


class DeadLetters(Protocol):
    def park(self, body: str, reason: str, detail: dict[str, str]) -> None: ...


def no_checkpoint(point: str, keys: Sequence[str]) -> None:
    """Crash-injection hook for the local chaos harness; a no-op everywhere else."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Bounded retries inside one invocation, with full jitter; after that SQS redelivery takes over."""

    max_attempts: int = 3
    base_seconds: float = 0.2
    rate_limited_base_seconds: float = 1.0  # rate limits want the caller to slow down more
    cap_seconds: float = 5.0

    def delay(self, attempt: int, outcome: Classification, draw: Callable[[], float]) -> float | None:
        """Seconds to wait before the next attempt, or None when it should be left to SQS."""
        if attempt + 1 >= self.max_attempts or outcome.code == MAINTENANCE_CODE:
            return None  # maintenance lasts minutes: the queue's visibility timeout is the better wait
        base = self.rate_limited_base_seconds if outcome.rate_limited else self.base_seconds
        return float(draw() * min(self.cap_seconds, base * 2**attempt))


@dataclass(slots=True)
class ForwardReport:
    dedup_writes: int = 0
    outcomes: list[Classification] = field(default_factory=list)  # every Events API answer, in order
    # What happened per pixel code (None: a message too malformed to name one); the totals below are
    # their sums, so the metrics per pixel and the report's totals cannot disagree.
    per_pixel: dict[str | None, PixelTally] = field(default_factory=dict)
    # Per failed message, why it failed (the reason asking for the longest wait): the handler turns it
    # into the message's visibility delay (ttrelay.forward.redelivery).
    retry_reasons: dict[str, RetryReason] = field(default_factory=dict)

    @property
    def failed_message_ids(self) -> KeysView[str]:
        """The messages SQS must bring back (the partial batch response)."""
        return self.retry_reasons.keys()

    @property
    def delivered(self) -> int:
        return sum(tally.delivered for tally in self.per_pixel.values())

    @property
    def duplicates(self) -> int:
        return sum(tally.duplicates for tally in self.per_pixel.values())

    @property
    def parked(self) -> int:
        return sum(tally.parked_by_reason.total() for tally in self.per_pixel.values())

    @property
    def requests(self) -> int:
        return len(self.outcomes)

    def retry(self, message_ids: Iterable[str], reason: RetryReason) -> None:
        """Report the messages as failed, to come back from SQS; each keeps its longest-wait reason."""
        for message_id in message_ids:
            self.retry_reasons[message_id] = max(reason, self.retry_reasons.get(message_id, reason))

    def count_delivered(self, pixel: str, count: int) -> None:
        self._tally(pixel).delivered += count

    def count_duplicates(self, pixel: str, count: int) -> None:
        self._tally(pixel).duplicates += count

    def count_parked(self, pixel: str | None, reason: str, count: int) -> None:
        self._tally(pixel).parked_by_reason[reason] += count

    def count_answer(self, pixel: str, outcome: Classification, latency_ms: float) -> None:
        self.outcomes.append(outcome)
        self._tally(pixel).answers.append(TimedAnswer(outcome, latency_ms))

    def _tally(self, pixel: str | None) -> PixelTally:
        return self.per_pixel.setdefault(pixel, PixelTally())


@dataclass(slots=True)
class _Pending:
    """One claimed event and every message of this batch that carries it. The first carrying message's
    copy is the one sent (`envelope`, `event`); the others share its outcome, unless it is refused."""

    key: str
    owner: str  # who claims it: its message's claim_id (mode "message") or this worker (mode "lease")
    event: TikTokEvent
    envelope: QueuedEvents
    sender: str  # the claim_id of the message whose copy is sent
    claim_of: dict[str, str]  # message_id -> claim_id, of every message of the batch carrying it
    last_receive: bool = True  # every message carrying it is on its last delivery before the redrive
    receipt: str = ""  # mode "message": the receipt its planned request writes once TikTok confirms it

    @property
    def message_ids(self) -> list[str]:
        return list(self.claim_of)

    @property
    def other_copies(self) -> list[str]:
        """Messages carrying a copy of their own (another claim_id): not settled by this copy's refusal."""
        return [message_id for message_id, claim_id in self.claim_of.items() if claim_id != self.sender]

    @property
    def claim(self) -> Claim:
        return Claim(self.owner, self.receipt, frozenset(self.claim_of.values()), self.last_receive)


@dataclass(frozen=True, slots=True)
class _Invocation:
    """What one forward() call carries between its steps."""

    report: ForwardReport
    deadline: float | None


@dataclass(frozen=True, slots=True)
class _Sent:
    """A group of events and the answer to the request that carried them (or to its parent, if capped)."""

    items: Sequence[_Pending]
    outcome: Classification
    capped: bool = False  # bisection's request budget ran out before this group could be split or sent


@dataclass(frozen=True, slots=True)
class Forwarder:
    dedup: DedupStore
    events_api: EventsApi
    dead_letters: DeadLetters
    owner: str
    test_event_code: str = ""
    # Per-pixel test codes (shadow mode, ForwardSettings.test_event_codes); test_event_code for the rest.
    test_event_codes: Mapping[str, str] = field(default_factory=dict)
    max_events_per_request: int = 1000
    max_bisect_requests: int = 20  # extra requests per rejected batch (ForwardSettings explains 20)
    # The queue's maxReceiveCount; 0 = unknown, and then every delivery is treated as the last one.
    max_receive_count: int = 0
    backoff: Backoff = Backoff()
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    # How long after claiming a send may still start: the lease minus one request's timeout, so a
    # request never outlives the lease and another worker cannot claim and send the same event meanwhile.
    send_window_seconds: float | None = None
    checkpoint: Callable[[str, Sequence[str]], None] = no_checkpoint
    run_ids: Callable[[], str] = lambda: uuid.uuid4().hex  # names one forward() call's receipts

    def forward(self, messages: Iterable[InboundMessage], deadline: float | None = None) -> ForwardReport:
        """Deliver what the messages hold; `deadline` (clock time) bounds the in-invocation retries."""
        report = ForwardReport()
        writes_before = self.dedup.writes
        inbound = list(messages)
        envelopes = [(m.message_id, e) for m in inbound if (e := self._parse(m, report)) is not None]
        last = {m.message_id for m in inbound if m.receive_count >= self.max_receive_count}
        claimed_at = self.clock()
        requests = self._claim(envelopes, last, report)
        self.checkpoint("claimed", [item.key for _, items in requests for item in items])
        if self.send_window_seconds is not None:
            lease_end = claimed_at + self.send_window_seconds
            deadline = lease_end if deadline is None else min(deadline, lease_end)
        run = _Invocation(report, deadline)
        for pixel, items in requests:
            self._deliver(pixel, items, run)
        report.dedup_writes = self.dedup.writes - writes_before
        return report

    def _parse(self, message: InboundMessage, report: ForwardReport) -> QueuedEvents | None:
        try:
            envelope = QueuedEvents.model_validate_json(message.body)
        except ValidationError:
            # A body we cannot read never succeeds: park it now, not after maxReceiveCount retries.
            self.dead_letters.park(message.body, "malformed_message", {"message_id": message.message_id})
            report.count_parked(None, "malformed_message", 1)
            return None
        shared = [envelope.shared.user] if envelope.shared else []
        for user in [*shared, *(event.user for event in envelope.events)]:
            _rehash(user)
        return envelope

    def _claim(
        self, envelopes: Sequence[tuple[str, QueuedEvents]], last: set[str], report: ForwardReport
    ) -> list[tuple[str, list[_Pending]]]:
        """Plan the Events API requests (per pixel, at most max_events_per_request each), claim their
        events, and return the requests with only what is ours to send."""
        candidates: dict[str, _Pending] = {}
        for message_id, envelope in envelopes:
            for event in envelope.events:
                key = dedup_key(envelope.pixel_code, event.event, event.event_id)
                claim_id = envelope.claim_id or message_id  # a message queued before claim_id existed
                if key in candidates:  # the same event twice in one batch: send once, share the outcome
                    candidates[key].claim_of[message_id] = claim_id
                    candidates[key].last_receive &= message_id in last
                else:
                    owner = self.owner if self.dedup.mode is DedupMode.LEASE else claim_id
                    candidates[key] = _Pending(
                        key, owner, event, envelope, claim_id, {message_id: claim_id}, message_id in last
                    )
        planned = self._plan(list(candidates.values()))
        results = self.dedup.claim_many({key: item.claim for key, item in candidates.items()}, self.clock())
        for key, item in candidates.items():
            if results[key] is ClaimResult.DELIVERED:  # every copy in this batch is a duplicate
                report.count_duplicates(item.envelope.pixel_code, len(item.claim_of))
            elif results[key] is ClaimResult.BUSY:  # a live lease: that send ends within a lease
                report.retry(item.message_ids, RetryReason.BUSY)
            elif (
                results[key] is ClaimResult.WAITING
            ):  # another message may still be refused: its outcome first
                report.retry(item.message_ids, RetryReason.WAITING)
        mine = [
            (pixel, [i for i in items if results[i.key] is ClaimResult.CLAIMED]) for pixel, items in planned
        ]
        return [(pixel, items) for pixel, items in mine if items]

    def _plan(self, candidates: Sequence[_Pending]) -> list[tuple[str, list[_Pending]]]:
        """Requests are planned before claiming, so that each claim can name its request's receipt."""
        by_pixel: dict[str, list[_Pending]] = {}
        for item in candidates:
            by_pixel.setdefault(item.envelope.pixel_code, []).append(item)
        run_id, planned = self.run_ids(), list[tuple[str, list[_Pending]]]()
        for pixel, items in by_pixel.items():
            for batch in batched(items, self.max_events_per_request, strict=False):
                request = list(batch)
                if self.dedup.mode is DedupMode.MESSAGE:
                    for item in request:
                        item.receipt = f"{RECEIPT_PREFIX}{run_id}#{len(planned)}"
                planned.append((pixel, request))
        return planned

    def _deliver(self, pixel: str, items: Sequence[_Pending], run: _Invocation) -> None:
        """Send one batch; a payload rejection halves it, breadth first, within `max_bisect_requests`.

        The cap keeps one bad event in 1,000 from costing ~2,000 requests and table writes; breadth
        first, the budget narrows every rejected half alike instead of isolating the first bad event and
        parking the rest. Each answer is settled as soon as it arrives, so a success is marked delivered
        before the next request goes out (the crash-safety order of docs/delivery.md is unchanged)."""
        budget = self.max_bisect_requests
        rejected: deque[_Sent] = deque()
        self._settle_or_split(_Sent(items, self._send_with_retries(pixel, items, run)), rejected, run)
        while rejected:
            group = rejected.popleft()
            if budget == 0:
                self._settle(dataclasses.replace(group, capped=True), run)
                continue
            middle = len(group.items) // 2
            for half in (group.items[:middle], group.items[middle:]):
                if budget == 0:  # the first half spent the rest of the budget: this one is parked unsent
                    self._settle(_Sent(half, group.outcome, capped=True), run)
                    continue
                # Only the halving requests count: retries of a fault are bounded by the backoff.
                budget -= 1
                self._settle_or_split(_Sent(half, self._send_with_retries(pixel, half, run)), rejected, run)

    def _settle_or_split(self, sent: _Sent, rejected: deque[_Sent], run: _Invocation) -> None:
        outcome = sent.outcome
        if outcome.verdict is Verdict.PERMANENT and not outcome.alert and len(sent.items) > 1:
            rejected.append(sent)  # a payload error rejects the whole request: halve it
        else:
            self._settle(sent, run)

    def _settle(self, group: _Sent, run: _Invocation) -> None:
        outcome, report = group.outcome, run.report
        if outcome.verdict in (Verdict.SUCCESS, Verdict.PARTIAL):
            # 20001 "partial OK" counts as delivered: which events failed is UNCONFIRMED (reference §6),
            # and resending the whole request would repeat whatever payload error TikTok saw.
            self.checkpoint("sent", [item.key for item in group.items])
            self.dedup.mark_delivered({item.key: item.claim for item in group.items}, self.clock())
            # A group is one request's events, so all of one pixel.
            pixel = group.items[0].envelope.pixel_code
            report.count_delivered(pixel, len(group.items))
            report.count_duplicates(pixel, sum(len(item.claim_of) - 1 for item in group.items))
            return
        # A capped group may hold good events: while SQS will deliver its messages again, the next
        # invocation goes on halving with a fresh budget; only on the last delivery is it parked.
        again = group.capped and not all(item.last_receive for item in group.items)
        retry = outcome.verdict is Verdict.RETRY or again
        self.dedup.release({item.key: item.claim for item in group.items}, for_retry=retry)
        if retry:
            for item in group.items:
                report.retry(item.message_ids, retry_reason(outcome))
        else:
            self._park(group.items, outcome, report, capped=group.capped)

    def _send_with_retries(self, pixel: str, items: Sequence[_Pending], run: _Invocation) -> Classification:
        body: dict[str, object] = {
            "event_source": "web",
            "event_source_id": pixel,
            "data": [
                item.envelope.api_event(item.event).model_dump(mode="json", exclude_none=True)
                for item in items
            ],
        }
        # Top level only, and per request: requests are per pixel, so one pixel's test code never marks
        # another pixel's live events (reference §2: keep test events in separate requests).
        if test_event_code := self.test_event_codes.get(pixel, self.test_event_code):
            body["test_event_code"] = test_event_code
        attempt, deadline = 0, run.deadline
        while True:
            if deadline is not None and self.clock() >= deadline:
                return Classification(Verdict.RETRY, "deadline:not_sent")
            started = time.perf_counter()
            outcome = self.events_api.send(pixel, body)
            run.report.count_answer(pixel, outcome, (time.perf_counter() - started) * 1000)
            if outcome.verdict is not Verdict.RETRY:
                return outcome
            delay = self.backoff.delay(attempt, outcome, self.jitter)
            if delay is None or (deadline is not None and self.clock() + delay >= deadline):
                return outcome
            self.sleep(delay)
            attempt += 1

    def _park(
        self, items: Sequence[_Pending], outcome: Classification, report: ForwardReport, capped: bool = False
    ) -> None:
        """Permanent failures go to the DLQ with TikTok's reason; redrive re-sends them once fixed.

        `capped`: bisection ran out of requests before these events were isolated, so good events may be
        among them; the reason says so (`code:40002:bisect_capped`) and a redrive sends them all again."""
        reason = f"{outcome.reason}:{BISECT_CAPPED}" if capped else outcome.reason
        detail = {"message": outcome.message, "request_id": outcome.request_id or ""}
        for item in items:
            # TikTok refused the copy that was sent; another message's copy of the event may be good. Its
            # message comes back and, the claim being released with this park, sends its own copy.
            report.retry(item.other_copies, RetryReason.WAITING)
        groups: dict[int, list[_Pending]] = {}
        for item in items:
            groups.setdefault(id(item.envelope), []).append(item)
        for group in groups.values():
            envelope = group[0].envelope.model_copy(update={"events": [item.event for item in group]})
            self.dead_letters.park(envelope.body(), reason, detail)
            report.count_parked(envelope.pixel_code, reason, len(group))


def _rehash(user: TikTokUser) -> None:
    """Hash again: a no-op on the collector's 64-hex digests, a safeguard for direct producers."""
    for name in HASHED_USER_FIELDS:
        values = getattr(user, name)
        if values:
            setattr(user, name, hash_user_field(name, values) or None)
