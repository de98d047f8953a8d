"""The local stack's live inspector: every collect request, its consent decision, and each event's fate.

Sources, all observed from outside the shipping code:
- the front's record of each POST /events exchange (collect_exchange.py), under the request id it gave
  the invocation;
- the collect handler's `collected` log line, which carries the consent receipt (signals and their
  sources, location) that the 202 body leaves out; Powertools stamps it with `function_request_id`,
  the id the front chose, so the two join exactly even with concurrent workers;
- the fake Events API's requests, joined to events by event_id. The inspector keeps its own memory of
  them (handed over as the fake records each one), so clearing the fake's log (`DELETE
  /_local/tiktok/requests`) does not turn a delivered event back into a queued one;
- the DLQ's parked messages (dead_letter_watch.py) and the queues' sizes. What is still in the events
  queue is inferred, never received: see dead_letter_watch.py for why.
Memory is bounded: the last `keep` requests, twice as many log lines, and the Events API attempts of
the last `EVENTS_FOLLOWED` event ids (per event: how many, the last few, when one was first accepted).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ttrelay.forward.dlq import ParkedMessage

from ttrelay_dev.local.collect_exchange import CollectExchange, SentEvent
from ttrelay_dev.local.inspector_explanations import (
    explain_decision,
    explain_error,
    explain_event_status,
    explain_location,
)
from ttrelay_dev.local.masked_match_keys import masked_match_keys

KEEP = 200
EVENTS_FOLLOWED = 10_000  # event ids whose Events API attempts are remembered (the oldest go first)
_ATTEMPTS_SHOWN = 5
_RECEIPT_FIELDS = (
    "regime",
    "action",
    "reason",
    "limited_data_use",
    "signals_present",
    "signal_sources",
    "regimes_considered",
    "policy_version",
    "undecided",
)
# Where each event came from, in the page's words: its declared `source`, else "backend" for a request
# with an API key, else unknown (an older snippet, or a page's own fetch).
SOURCE_LABELS = {
    "ttq": "pixel call (ttq.track)",
    "dataLayer": "dataLayer (GA4)",
    "ttrelay": "ttrelay.track",
    "shopify": "Shopify custom pixel",
    "backend": "backend",
    "unknown": "unknown",
}
# Answers the front gives itself, before or instead of the collect handler.
_FRONT_ERRORS = {429: "throttled", 502: "function_error", 503: "starting"}

Json = dict[str, Any]


@dataclass
class _Attempts:
    """What the Events API answered for one event_id, in the inspector's own memory."""

    total: int = 0
    last: deque[Json] = field(default_factory=lambda: deque(maxlen=_ATTEMPTS_SHOWN))
    first_accepted_at: float | None = None

    def shown(self) -> list[Json]:
        # Requests may be handed over out of order (concurrent forwarders): show them in time order.
        ordered = sorted(self.last, key=lambda attempt: attempt["received_at"])
        return [{**attempt, "match_keys": masked_match_keys(attempt["match_keys"])} for attempt in ordered]


class Inspector:
    def __init__(
        self,
        queue_state: Callable[[], dict[str, int]],
        parked: Callable[[int], list[ParkedMessage]],
        follows_fake: bool = True,
        keep: int = KEEP,
        events_followed: int = EVENTS_FOLLOWED,
    ) -> None:
        self._queue_state = queue_state
        self._parked = parked
        self._follows_fake = follows_fake  # False when the forwarder sends to TikTok itself
        self._lock = threading.Lock()
        self._exchanges: deque[tuple[int, CollectExchange]] = deque(maxlen=keep)
        self._receipts: OrderedDict[str, Json] = OrderedDict()
        self._receipts_kept = 2 * keep
        self._attempts: OrderedDict[str, _Attempts] = OrderedDict()
        self._events_followed = events_followed
        self._seq = 0

    # -- inputs --------------------------------------------------------------------------------------
    def record(self, exchange: CollectExchange) -> None:
        with self._lock:
            self._seq += 1
            self._exchanges.append((self._seq, exchange))

    def collect_log_line(self, line: str) -> None:
        """Keeps the receipt of a `collected` line; every other line is ignored."""
        if '"collected"' not in line:
            return  # cheap filter: most lines are metrics or other messages
        try:
            entry = json.loads(line)
        except ValueError:
            return
        if not isinstance(entry, dict) or entry.get("message") != "collected":
            return
        request_id, receipt = entry.get("function_request_id"), entry.get("consent_receipt")
        if not isinstance(request_id, str) or not isinstance(receipt, dict):
            return
        kept = {key: receipt[key] for key in _RECEIPT_FIELDS if key in receipt}
        # What the log line leaves out (observability.receipt_log_form), put back for the feed.
        kept.setdefault("signals_present", [])
        sources = kept.get("signal_sources", {"request": kept["signals_present"]})
        kept["signal_sources"] = {"request": [], "cookies": []} | sources
        kept.setdefault("limited_data_use", kept.get("action") == "limited")
        kept.setdefault("regimes_considered", [kept["regime"]] if "regime" in kept else [])
        location = receipt.get("location")
        if isinstance(location, dict):
            kept["location"] = {key: location.get(key) for key in ("country", "subdivision", "source")}
        with self._lock:
            self._receipts[request_id] = kept
            while len(self._receipts) > self._receipts_kept:
                self._receipts.popitem(last=False)

    def events_api_request(self, record: Mapping[str, object]) -> None:
        """Remembers one request the fake Events API answered, as an attempt of each event it carried.

        Called by the fake as it records each request; the match keys are masked only when shown."""
        body, response = record.get("body"), record.get("response")
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            return
        answer = response if isinstance(response, dict) else {}
        received_at = float(str(record.get("received_at", 0)))
        accepted = bool(record.get("accepted"))
        common = {
            "received_at": received_at,
            "http_status": record.get("status"),
            "code": answer.get("code"),
            "message": answer.get("message") if answer else str(response)[:120],
            "request_id": answer.get("request_id"),
            "accepted": accepted,
        }
        with self._lock:
            for item in data:
                event_id = item.get("event_id") if isinstance(item, dict) else None
                if not isinstance(event_id, str):
                    continue
                attempts = self._attempts.pop(event_id, None) or _Attempts()
                self._attempts[event_id] = attempts  # now the most recent
                attempts.total += 1
                attempts.last.append(
                    {
                        **common,
                        "limited_data_use": item.get("limited_data_use"),
                        "match_keys": item.get("user"),
                    }
                )
                if accepted and (
                    attempts.first_accepted_at is None or received_at < attempts.first_accepted_at
                ):
                    attempts.first_accepted_at = received_at
            while len(self._attempts) > self._events_followed:
                self._attempts.popitem(last=False)

    # -- output --------------------------------------------------------------------------------------
    def feed(self) -> Json:
        with self._lock:
            exchanges = list(self._exchanges)
            receipts = dict(self._receipts)
            wanted = {
                event.event_id for _, exchange in exchanges for event in exchange.events if event.event_id
            }
            attempts = {
                event_id: _Attempts(
                    tries.total, deque(tries.last, maxlen=_ATTEMPTS_SHOWN), tries.first_accepted_at
                )
                for event_id in wanted
                if (tries := self._attempts.get(event_id)) is not None
            }
        queue = self._queue_state()
        parked = _parked_by_event(self._parked(queue.get("dlq", 0)), wanted)
        requests = [
            _request_view(
                seq, exchange, receipts.get(exchange.request_id), attempts, parked, self._follows_fake
            )
            for seq, exchange in exchanges
        ]
        return {
            "generated_at": time.time(),
            "kept": self._exchanges.maxlen,
            "delivery_followed": self._follows_fake,
            "queue": queue,
            "requests": requests,
        }


def _request_view(
    seq: int,
    exchange: CollectExchange,
    receipt: Json | None,
    attempts: Mapping[str, _Attempts],
    parked: Mapping[str, Json],
    follows_fake: bool,
) -> Json:
    response = exchange.response
    view: Json = {
        "seq": seq,
        "received_at": exchange.received_at,
        "path": exchange.path,
        "sender": dict(exchange.sender),
        "cookie_names": list(exchange.cookie_names),
        "status": exchange.status,
        "token_issued": response.get("token_issued", False),
    }
    decision = response.get("decision") if exchange.status == 202 else None
    if not isinstance(decision, dict):
        error = response.get("error") or _FRONT_ERRORS.get(exchange.status, f"http_{exchange.status}")
        view["outcome"] = "refused"
        view["error"] = {
            "code": error,
            "errors": response.get("errors", []),
            "explanation": explain_error(str(error)),
        }
        view["events"] = [_event_view(event, exchange, "refused") for event in exchange.events]
        return view
    action, regime, reason = (str(decision.get(key, "")) for key in ("action", "regime", "reason"))
    view["outcome"] = {"forward": "forwarded", "limited": "limited", "drop": "dropped"}.get(action, action)
    view["decision"] = {
        "action": action,
        "regime": regime,
        "reason": reason,
        "explanation": explain_decision(action, reason, (receipt or {}).get("undecided", ())),
        **_receipt_view(receipt),
    }
    rejected = {item.get("index"): item for item in response.get("rejected", []) if isinstance(item, dict)}
    warnings = [item for item in response.get("warnings", []) if isinstance(item, dict)]
    view["counts"] = {
        "accepted": response.get("accepted", 0),
        "dropped": response.get("dropped", 0),
        "rejected": len(rejected),
        "warnings": len(warnings),
    }
    view["events"] = [
        _sent_event_view(event, action, rejected, warnings, attempts, parked, exchange, follows_fake)
        for event in exchange.events
    ]
    # A warning without an index is about the request itself (an unknown field, the request's `user`).
    if about_request := [warning for warning in warnings if "index" not in warning]:
        view["warnings"] = about_request
    return view


def _receipt_view(receipt: Json | None) -> Json:
    if receipt is None:
        return {"receipt": None}  # its log line has not arrived (yet): the 202 body's decision stands alone
    location = receipt.get("location") or {}
    return {
        "receipt": {
            **{key: value for key, value in receipt.items() if key != "location"},
            "location": {**location, "explanation": explain_location(location)},
        }
    }


def _sent_event_view(
    event: SentEvent,
    action: str,
    rejected: Mapping[object, Json],
    warnings: list[Json],
    attempts: Mapping[str, _Attempts],
    parked: Mapping[str, Json],
    exchange: CollectExchange,
    follows_fake: bool,
) -> Json:
    tries = (attempts.get(event.event_id) if event.event_id and follows_fake else None) or _Attempts()
    if event.index in rejected:
        status = "rejected"
    elif action == "drop":
        status = "dropped"
    elif event.event_id is None:
        status = "untraceable"
    elif not follows_fake:
        status = "not_followed"
    else:
        status = _delivery_status(event.event_id, tries, parked, exchange.received_at)
    extra: Json = {}
    if mine := [warning for warning in warnings if warning.get("index") == event.index]:
        extra["warnings"] = mine
    if status == "rejected":
        extra["errors"] = rejected[event.index].get("errors", [])
    if status == "parked" and event.event_id:
        extra["parked"] = parked[event.event_id]
    if tries.total:
        # `attempts` holds the last few; `attempts_total` says how many there were ("last 5 of 7").
        extra["attempts"] = tries.shown()
        extra["attempts_total"] = tries.total
    return _event_view(event, exchange, status, **extra)


def _delivery_status(event_id: str, tries: _Attempts, parked: Mapping[str, Json], received_at: float) -> str:
    if tries.first_accepted_at is not None:
        # The relay's dedup skips an event_id it already delivered: that delivery predates this request.
        return "deduplicated" if tries.first_accepted_at < received_at else "delivered"
    if event_id in parked:
        return "parked"
    return "retrying" if tries.total else "queued"


def _event_view(event: SentEvent, exchange: CollectExchange, status: str, **extra: object) -> Json:
    source = event.source or ("backend" if exchange.sender.get("kind") == "backend" else "unknown")
    return {
        "index": event.index,
        "event": event.event,
        "event_id": event.event_id,
        "source": source,
        "source_label": SOURCE_LABELS[source],
        "status": status,
        "explanation": explain_event_status(status),
        **extra,
    }


def _parked_by_event(messages: Iterable[ParkedMessage], wanted: set[str]) -> dict[str, Json]:
    parked: dict[str, Json] = {}
    for message in messages:
        try:
            envelope = json.loads(message.body)
        except ValueError:
            continue
        events = envelope.get("events") if isinstance(envelope, dict) else None
        for item in events if isinstance(events, list) else []:
            event_id = item.get("event_id") if isinstance(item, dict) else None
            if isinstance(event_id, str) and event_id in wanted:
                parked[event_id] = {
                    # SQS itself moves a message after maxReceiveCount receives: it has no reason of ours.
                    "reason": message.attributes.get("reason", "max_receive_count_exceeded"),
                    "message": message.attributes.get("message"),
                    "request_id": message.attributes.get("request_id"),
                }
    return parked
