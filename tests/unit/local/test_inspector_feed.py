"""The inspector's joins and words, with in-memory sources: no stack, no sockets."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from ttrelay.forward.dlq import ParkedMessage
from ttrelay_dev.local.collect_exchange import CollectExchange
from ttrelay_dev.local.fake_events_api import FakeEventsApi, FaultConfig
from ttrelay_dev.local.inspector import Inspector
from ttrelay_dev.local.inspector_explanations import explain_decision
from ttrelay_dev.local.masked_match_keys import NOT_HASHED, masked_match_keys

SHA = "a" * 64
ORIGIN = [("Origin", "https://shop.example.com")]


def accepted(action: str = "forward", **extra: object) -> bytes:
    body = {
        "accepted": 1,
        "dropped": 0,
        "decision": {"action": action, "regime": "opt_in", "reason": "grant:cmp"},
    }
    return json.dumps({**body, "token": "v1.secret-token", **extra}).encode()


def exchange(
    request_id: str, event_ids: list[str | None], at: float = 100.0, response: bytes = b""
) -> CollectExchange:
    events = [{"event": "Purchase", **({"event_id": e} if e else {})} for e in event_ids]
    body = json.dumps({"user": {"email": "x@example.com"}, "events": events}).encode()
    return CollectExchange.of(request_id, at, "/events", ORIGIN, body, 202, response or accepted())


def record(event_id: str, at: float, code: int = 0) -> dict[str, Any]:
    return {
        "received_at": at,
        "status": 200,
        "accepted": code == 0,
        "response": {"code": code, "message": "OK" if code == 0 else "Bad", "request_id": f"rq-{at}"},
        "body": {"data": [{"event_id": event_id, "user": {"email": [SHA]}}]},
    }


class Sources:
    def __init__(self) -> None:
        self.parked: list[ParkedMessage] = []
        self._inspectors: list[Inspector] = []

    def inspector(self, keep: int = 200, events_followed: int = 10_000) -> Inspector:
        inspector = Inspector(
            lambda: {"visible": 0, "in_flight": 0, "dlq": len(self.parked)},
            lambda _size: self.parked,
            keep=keep,
            events_followed=events_followed,
        )
        self._inspectors.append(inspector)
        return inspector

    def answered(self, *records: dict[str, Any]) -> None:
        """The fake Events API answered these requests: it hands each to the inspector as it records it."""
        for inspector in self._inspectors:
            for answered in records:
                inspector.events_api_request(answered)


def statuses(inspector: Inspector) -> list[list[str]]:
    return [[event["status"] for event in request["events"]] for request in inspector.feed()["requests"]]


def test_each_event_gets_the_status_its_sources_show() -> None:
    sources = Sources()
    inspector = sources.inspector()
    inspector.record(exchange("r1", ["queued-1", "retry-1", "done-1", "parked-1", None]))
    sources.answered(record("retry-1", 101, code=50000), record("done-1", 101))
    sources.parked.append(
        ParkedMessage(json.dumps({"events": [{"event_id": "parked-1"}]}), {"reason": "code:40002"}, 0)
    )

    assert statuses(inspector) == [["queued", "retrying", "delivered", "parked", "untraceable"]]
    parked = inspector.feed()["requests"][0]["events"][3]
    assert parked["parked"]["reason"] == "code:40002"


def test_a_resent_event_already_delivered_is_shown_as_deduplicated() -> None:
    sources = Sources()
    inspector = sources.inspector()
    inspector.record(exchange("r1", ["order-1"], at=100))
    sources.answered(record("order-1", 101))
    inspector.record(exchange("r2", ["order-1"], at=200))

    assert statuses(inspector) == [["delivered"], ["deduplicated"]]


def send_to(fake: FakeEventsApi, event_id: str) -> int:
    body = {
        "event_source": "web",
        "event_source_id": "CTTRELAYLOCALDEV0001",
        "data": [
            {
                "event": "Purchase",
                "event_time": int(time.time()),
                "event_id": event_id,
                "user": {"email": [SHA]},
            }
        ],
    }
    headers = {"Access-Token": "local-dev-token", "Content-Type": "application/json"}
    return fake.handle("POST", "/open_api/v1.3/event/track/", headers, json.dumps(body).encode()).status


def test_clearing_the_fakes_log_leaves_delivered_events_delivered() -> None:
    # The documented `DELETE /_local/tiktok/requests`, on the fake the inspector follows in the stack.
    fake = FakeEventsApi()
    sources = Sources()
    inspector = sources.inspector()
    fake.subscribe(inspector.events_api_request)
    inspector.record(exchange("r1", ["order-1", "order-2"], at=time.time() - 1))
    fake.set_faults(FaultConfig.from_json({"error_rate": 1, "http_status": [500]}))
    assert send_to(fake, "order-2") == 500
    fake.set_faults(FaultConfig())
    assert send_to(fake, "order-1") == 200

    assert json.loads(fake.handle("DELETE", "/requests", {}, b"").body) == {"cleared": 2}

    assert fake.records() == []
    assert statuses(inspector) == [["delivered", "retrying"]]  # not "queued" while 0 are waiting
    order_1, order_2 = inspector.feed()["requests"][0]["events"]
    assert [a["http_status"] for a in order_1["attempts"]] == [200]
    assert [a["http_status"] for a in order_2["attempts"]] == [500]
    inspector.record(exchange("r2", ["order-1"], at=time.time()))  # resent after the clear
    assert statuses(inspector)[1] == ["deduplicated"]


def test_an_event_with_more_attempts_than_shown_says_how_many_there_were() -> None:
    # The fake logged 6 x 500, then OK: the last 5 are shown, and that there were 7.
    sources = Sources()
    inspector = sources.inspector()
    inspector.record(exchange("r1", ["order-1"]))
    sources.answered(*[record("order-1", 101 + n, code=50000) for n in range(6)], record("order-1", 110))

    (event,) = inspector.feed()["requests"][0]["events"]
    assert event["status"] == "delivered"
    assert event["attempts_total"] == 7
    assert [a["received_at"] for a in event["attempts"]] == [103, 104, 105, 106, 110]
    assert event["attempts"][-1]["accepted"] is True


def test_attempts_handed_over_out_of_order_are_shown_in_time_order() -> None:
    sources = Sources()
    inspector = sources.inspector()
    inspector.record(exchange("r1", ["order-1"]))
    sources.answered(record("order-1", 105), record("order-1", 102, code=50000))

    (event,) = inspector.feed()["requests"][0]["events"]
    assert [a["received_at"] for a in event["attempts"]] == [102, 105]
    assert event["attempts"][0]["match_keys"] == masked_match_keys({"email": [SHA]})


def test_the_memory_of_attempts_is_bounded_to_the_most_recently_attempted_events() -> None:
    sources = Sources()
    inspector = sources.inspector(events_followed=2)
    inspector.record(exchange("r1", ["a", "b", "c"]))
    sources.answered(record("a", 101), record("b", 102), record("c", 103))

    assert statuses(inspector) == [["queued", "delivered", "delivered"]]  # "a" was forgotten first


def test_the_receipt_joins_by_the_invocation_request_id_in_either_order() -> None:
    inspector = Sources().inspector()
    line = {
        "message": "collected",
        "function_request_id": "r2",
        "consent_receipt": {
            "reason": "grant:cmp",
            "signal_sources": {"request": ["cmp"], "cookies": []},
            "location": {"source": "none", "ip": "1.2.3.4"},
        },
    }
    inspector.collect_log_line(json.dumps(line) + "\n")  # the log line may come first
    inspector.record(exchange("r1", ["a"]))
    inspector.record(exchange("r2", ["b"]))

    first, second = inspector.feed()["requests"]
    assert first["decision"]["receipt"] is None
    assert second["decision"]["receipt"]["signal_sources"]["request"] == ["cmp"]
    assert "ip" not in second["decision"]["receipt"]["location"]  # only the fields the page shows are kept


def test_a_tc_string_left_unused_for_lack_of_a_vendor_id_is_said_even_when_another_signal_granted() -> None:
    inspector = Sources().inspector()
    receipt = {
        "reason": "grant:cmp",
        "undecided": ["tcf_vendor_unconfigured"],
        "location": {"source": "none"},
    }
    line = {"message": "collected", "function_request_id": "r1", "consent_receipt": receipt}
    inspector.record(exchange("r1", ["a"]))
    inspector.collect_log_line(json.dumps(line) + "\n")

    (request,) = inspector.feed()["requests"]
    assert request["decision"]["receipt"]["undecided"] == ["tcf_vendor_unconfigured"]
    explanation = request["decision"]["explanation"]
    assert explanation.startswith("Consent granted by your CMP's marketing category")
    assert "The TCF string was not used: no TikTok vendor id is configured (TikTokVendorId" in explanation


def test_memory_is_bounded_to_the_last_requests_kept() -> None:
    inspector = Sources().inspector(keep=3)
    for number in range(10):
        inspector.record(exchange(f"r{number}", [f"e{number}"]))
        inspector.collect_log_line(
            json.dumps({"message": "collected", "function_request_id": f"r{number}", "consent_receipt": {}})
        )

    requests = inspector.feed()["requests"]
    assert [request["events"][0]["event_id"] for request in requests] == ["e7", "e8", "e9"]
    assert len(inspector._receipts) == 6


def test_warnings_about_the_request_are_shown_on_it_and_those_about_an_event_on_that_event() -> None:
    warnings = [
        {"loc": "<key>", "msg": "unknown top-level field, ignored; did you mean user?"},
        {"index": 1, "event_id": "b", "loc": "events.1.properties.currency", "msg": "left out"},
    ]
    inspector = Sources().inspector()
    inspector.record(exchange("r1", ["a", "b"], response=accepted(warnings=warnings)))

    (request,) = inspector.feed()["requests"]
    assert request["warnings"] == warnings[:1]
    assert request["counts"]["warnings"] == 2
    assert [event.get("warnings") for event in request["events"]] == [None, warnings[1:]]


def test_the_exchange_keeps_neither_the_token_nor_the_body_nor_secret_header_values() -> None:
    headers = [("Authorization", "Bearer key-value"), ("Cookie", "ttrelay_cid=abc; euconsent-v2=CPxyz")]
    kept = CollectExchange.of(
        "r", 1.0, "/events", headers, b'{"user":{"email":"x@example.com"},"events":[]}', 202, accepted()
    )

    text = repr(kept)
    for secret in ("key-value", "abc", "CPxyz", "x@example.com", "secret-token"):
        assert secret not in text
    assert kept.sender == {"kind": "backend", "api_key": True}
    assert kept.cookie_names == ("euconsent-v2", "ttrelay_cid")
    assert kept.response["token_issued"] is True


def test_each_event_shows_where_it_came_from_and_a_backend_request_reads_as_backend() -> None:
    events = [
        {"event": "AddToCart", "event_id": "cart-1", "source": "ttq"},
        {"event": "Purchase", "event_id": "T-1001", "source": "dataLayer"},
        {"event": "Lead", "event_id": "lead-1", "source": "ttrelay"},
        {"event": "Lead", "event_id": "lead-2"},
        {"event": "Lead", "event_id": "lead-3", "source": "<img src=x>"},  # rejected by the collector
        {"event": "Lead", "event_id": "lead-4", "source": ["ttq"]},
    ]
    body = json.dumps({"events": events}).encode()
    backend_body = json.dumps({"events": [{"event": "Purchase", "event_id": "crm-1"}]}).encode()
    inspector = Sources().inspector()
    inspector.record(CollectExchange.of("r1", 1.0, "/events", ORIGIN, body, 202, accepted()))
    api_key = [("Authorization", "Bearer key-value")]
    inspector.record(CollectExchange.of("r2", 2.0, "/events", api_key, backend_body, 202, accepted()))
    refused = b'{"error": "invalid_request", "errors": []}'
    inspector.record(CollectExchange.of("r3", 3.0, "/events", ORIGIN, body, 400, refused))

    browser, backend, refused_request = inspector.feed()["requests"]
    shown = [(event["source"], event["source_label"]) for event in browser["events"]]
    assert shown == [
        ("ttq", "pixel call (ttq.track)"),
        ("dataLayer", "dataLayer (GA4)"),
        ("ttrelay", "ttrelay.track"),
        ("unknown", "unknown"),
        ("unknown", "unknown"),  # a value the collector does not know is not echoed
        ("unknown", "unknown"),
    ]
    assert [(event["source"], event["source_label"]) for event in backend["events"]] == [
        ("backend", "backend")
    ]
    assert [event["source"] for event in refused_request["events"]][:3] == ["ttq", "dataLayer", "ttrelay"]
    assert "<img" not in json.dumps(inspector.feed())


@pytest.mark.parametrize(
    ("action", "regime", "reason", "expected"),
    [
        (
            "drop",
            "opt_in",
            "no_consent_signal",
            "No consent signal, and the visitor's region needs opt-in: nothing sent",
        ),
        ("forward", "notice", "notice", "only needs notice"),
        ("forward", "opt_out", "no_opt_out", "has not opted out: sent to TikTok"),
        ("forward", "opt_in", "grant:gpp.tcfeuv2", "Consent granted by the TCF section of the GPP string"),
        (
            "drop",
            "opt_in",
            "deny:tcf:purpose_7",
            "Refused by the TCF consent string (no consent for TCF purpose 7): nothing sent",
        ),
        (
            "drop",
            "notice",
            "deny:cookie.cmp:marketing",
            "Refused by your CMP's marketing category, read from the CMP's cookies",
        ),
        (
            "limited",
            "opt_out",
            "opt_out:gpp.usca:opted_out",
            "the GPP US section usca (the visitor opted out",
        ),
        ("limited", "opt_out", "opt_out:gpc:gpc", "limited_data_use"),
        (
            "drop",
            "opt_in",
            "tcf_vendor_unconfigured",
            "no TikTok vendor id is configured, so TCF cannot grant",
        ),
        ("drop", "opt_in", "deny:cmp:malformed", "cmp categories take true/false"),
    ],
)
def test_every_kind_of_reason_reads_as_a_sentence(
    action: str, regime: str, reason: str, expected: str
) -> None:
    del regime  # in the table to show where each reason arises; the sentence does not depend on it
    assert expected in explain_decision(action, reason)


def test_match_keys_are_cut_masked_or_flagged_never_shown_whole() -> None:
    user = {
        "email": [SHA, "b" * 64],
        "phone": ["+14155550100"],  # not hashed: must never be echoed
        "ttclid": "E.C.P.longclickid",
        "ip": "2001:db8:85a3::8a2e:370:7334",
        "city": "Paris",
    }

    shown = masked_match_keys(user)

    assert shown["email"] == "aaaaaaaa… (+1)"
    assert shown["phone"] == NOT_HASHED
    assert shown["ttclid"] == "E.C.P.…"
    assert shown["ip"] == "2001:0db8:85a3:…"
    assert shown["city"] == "present"
    assert "Paris" not in json.dumps(shown) and "4155550100" not in json.dumps(shown)
