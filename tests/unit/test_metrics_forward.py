"""The forwarder's EMF metrics per pixel: delivered, deduplicated, parked by DLQ reason, Events API
answers by code and latency, with pixels outside the allowlist (and unreadable messages) under "other"."""

import json
import time
from typing import Any

import pytest
from support.fakes import MemoryDeadLetters, ScriptedEventsApi
from ttrelay.forward.dedup import InMemoryDedupStore
from ttrelay.forward.use_case import Forwarder, ForwardReport, InboundMessage
from ttrelay.observability.pixel_metrics import OTHER_PIXEL, configured_pixels
from ttrelay.observability.telemetry import report_forwarded

PIXEL_A = "CAAAAAAAAAAAAAAAAAAA"
PIXEL_B = "CBBBBBBBBBBBBBBBBBBB"
UNLISTED = "CXXXXXXXXXXXXXXXXXXX"
SHA = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d"
SERVICE = "ttrelay-tests"


def message(message_id: str, pixel: str, *event_ids: str) -> InboundMessage:
    events = [
        {"event": "Purchase", "event_id": eid, "event_time": 1795000000, "user": {"email": [SHA]}}
        for eid in event_ids
    ]
    body = {"v": 1, "pixel_code": pixel, "received_at": 1795000000.5, "events": events, "receipt": {}}
    return InboundMessage(message_id, json.dumps(body))


def slow_answers(body: dict[str, object]) -> tuple[int, object]:
    time.sleep(0.005)
    token_rejected = body["event_source_id"] == PIXEL_B  # 40105: the token cannot send for this pixel
    return 200, {"code": 40105 if token_rejected else 0, "message": "m", "request_id": "r-1"}


def forwarded() -> ForwardReport:
    forwarder = Forwarder(
        dedup=InMemoryDedupStore(),
        events_api=ScriptedEventsApi(respond=slow_answers),
        dead_letters=MemoryDeadLetters(),
        owner="worker-1",
        clock=lambda: 1_795_000_100.0,
        sleep=lambda _: None,
    )
    return forwarder.forward(
        [
            message("m1", PIXEL_A, "a-1", "a-2"),
            message("m2", PIXEL_A, "a-2"),  # the same event twice in one batch: sent once
            message("m3", PIXEL_B, "b-1", "b-2"),
            message("m4", UNLISTED, "x-1"),
            InboundMessage("m5", "not json"),
        ]
    )


def per_pixel(capsys: pytest.CaptureFixture[str], metric: str) -> dict[str, dict[str, Any]]:
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    return {line["pixel"]: line for line in lines if metric in line}


def test_each_pixel_gets_its_delivery_counts_with_a_service_total(capsys) -> None:
    report = forwarded()
    capsys.readouterr()
    report_forwarded(report, known_pixels=(PIXEL_A, PIXEL_B))
    blobs = per_pixel(capsys, "EventsApiRequests")

    assert set(blobs) == {PIXEL_A, PIXEL_B, OTHER_PIXEL}
    for blob in blobs.values():
        dimensions = blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
        assert sorted(map(sorted, dimensions)) == [["pixel", "service"], ["service"]]
        assert blob["service"] == SERVICE

    def counts(pixel: str) -> tuple[float, ...]:
        blob = blobs[pixel]
        names = ("EventsDelivered", "EventsDeduplicated", "EventsParked", "EventsApiRequests")
        # Zero counts are left out of the blob (log bytes are billed; no datapoint sums to zero).
        return tuple(blob.get(name, [0])[0] for name in (*names, "EventsApiConfigurationError"))

    assert counts(PIXEL_A) == (2, 1, 0, 1, 0)
    assert counts(PIXEL_B) == (0, 0, 2, 1, 1)  # a token problem: parked and alarmed on
    # The unlisted pixel's delivery and the unreadable message share the bucket.
    assert counts(OTHER_PIXEL) == (1, 0, 1, 1, 0)
    latencies = blobs[PIXEL_A]["EventsApiLatency"]
    assert len(latencies) == 1 and latencies[0] >= 5  # milliseconds around the Events API call
    assert blobs[PIXEL_A]["_aws"]["CloudWatchMetrics"][0]["Metrics"][-1] == {
        "Name": "EventsApiLatency",
        "Unit": "Milliseconds",
    }


def test_parked_events_count_by_dlq_reason_and_answers_by_code(capsys) -> None:
    report = forwarded()
    capsys.readouterr()
    report_forwarded(report, known_pixels=(PIXEL_A, PIXEL_B))
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]

    parked = {
        (line["pixel"], line["reason"]): line["EventsParkedByReason"][0]
        for line in lines
        if "EventsParkedByReason" in line
    }
    assert parked == {(PIXEL_B, "code:40105"): 2, (OTHER_PIXEL, "malformed_message"): 1}
    answers = {
        (line["pixel"], line["answer"]): line["EventsApiAnswers"][0]
        for line in lines
        if "EventsApiAnswers" in line
    }
    assert answers == {(PIXEL_A, "code:0"): 1, (PIXEL_B, "code:40105"): 1, (OTHER_PIXEL, "code:0"): 1}
    assert UNLISTED not in out  # an unlisted pixel code never becomes a dimension value


def test_report_totals_stay_the_sum_of_the_pixels() -> None:
    report = forwarded()
    tallies = report.per_pixel.values()
    assert report.delivered == sum(tally.delivered for tally in tallies) == 3
    assert report.duplicates == sum(tally.duplicates for tally in tallies) == 1
    assert report.parked == sum(tally.parked_by_reason.total() for tally in tallies) == 3
    assert report.requests == sum(len(tally.answers) for tally in tallies) == len(report.outcomes) == 3


def test_without_an_explicit_list_the_deployed_pixel_allowlist_decides(capsys, monkeypatch) -> None:
    monkeypatch.setenv("PIXEL_CODES", f"{PIXEL_B}, {PIXEL_A}")
    configured_pixels.cache_clear()
    try:
        report = forwarded()
        capsys.readouterr()
        report_forwarded(report)
    finally:
        configured_pixels.cache_clear()
    assert set(per_pixel(capsys, "EventsApiRequests")) == {PIXEL_A, PIXEL_B, OTHER_PIXEL}
