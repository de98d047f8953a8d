"""Chaos's delivery latency: from the collector's 202 to the fake Events API's first acceptance."""

from ttrelay_dev.local.delivery_latency import (
    backoff_allowance_s,
    first_acceptance,
    last_acceptance,
    latency_figures,
    percentile,
)

PIXEL = "CAAAAAAAAAAAAAAAAAAA"


def record(at: float, *event_ids: str, accepted: bool = True, pixel: str = PIXEL) -> dict[str, object]:
    body = {"event_source_id": pixel, "data": [{"event_id": event_id} for event_id in event_ids]}
    return {"received_at": at, "accepted": accepted, "body": body}


def test_the_first_accepted_request_counts_not_faults_nor_other_pixels_nor_later_repeats() -> None:
    records = [
        record(10.0, "a", accepted=False),  # a fault: not delivered yet
        record(11.0, "b", pixel="CBBBBBBBBBBBBBBBBBBB"),
        record(12.0, "a", "b"),
        record(13.0, "a"),  # a resend TikTok dedups: the event had already arrived
    ]
    assert first_acceptance(records, PIXEL) == {"a": 12.0, "b": 12.0}


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 1.0)) == (50.0, 99.0, 100.0)
    assert percentile([7.0], 0.99) == 7.0


def test_latency_runs_from_post_to_acceptance_and_the_drain_from_the_last_post() -> None:
    posted = {"a": 100.0, "b": 101.0, "lost": 102.0}
    figures = latency_figures(posted, {"a": 103.0, "b": 131.0}, last_post=102.0)
    assert figures == {"p50_s": 3.0, "p99_s": 30.0, "max_s": 30.0, "last_delivery_after_last_post_s": 29.0}
    assert latency_figures(posted, {}, 102.0)["max_s"] is None


def test_the_last_delivery_is_the_last_request_the_fake_accepted_of_any_pixel() -> None:
    records = [
        record(12.0, "a"),
        record(14.0, "b", pixel="CBBBBBBBBBBBBBBBBBBB"),
        record(15.0, "c", accepted=False),  # a fault after it is no delivery
    ]
    assert last_acceptance(records) == 14.0
    assert last_acceptance([record(9.0, "a", accepted=False)]) is None


def _faulted(event_ids: list[str], code: int) -> dict[str, object]:
    body = {"event_source_id": "P", "data": [{"event_id": event_id} for event_id in event_ids]}
    return {"status": 200, "response": {"code": code}, "body": body, "accepted": False, "fault": "code"}


def test_the_backoff_allowance_is_the_retry_schedules_longest_wait_for_one_event() -> None:
    # Four 5xx-like faults of one event: 2 + 4 + 8 + 16 s (FAULT: base 2, doubling); two rate limits of
    # another: 10 + 20 s (RATE_LIMITED: base 10). An accepted request or a permanent refusal adds nothing.
    records = [_faulted(["a"], 50000) for _ in range(4)] + [_faulted(["b"], 40100) for _ in range(2)]
    accepted = {"status": 200, "response": {"code": 0}, "body": {"data": [{"event_id": "a"}]}, "fault": None}
    permanent = {**_faulted(["c"], 40002), "fault": None}
    assert backoff_allowance_s([*records, accepted, permanent]) == 30.0
    assert backoff_allowance_s([*records, _faulted(["a"], 50000)]) == 62.0
    assert backoff_allowance_s([]) == 0.0
