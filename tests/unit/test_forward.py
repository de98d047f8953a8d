"""The forward use case with in-memory ports: batching, dedup in both modes, and what each answer does."""

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError
from support.fakes import MemoryDeadLetters, ScriptedEventsApi
from ttrelay.config import ForwardSettings
from ttrelay.forward.dedup import Claim, ClaimResult, DedupMode, InMemoryDedupStore, dedup_key, key_digest
from ttrelay.forward.redelivery import RetryReason
from ttrelay.forward.use_case import Forwarder, InboundMessage

PIXEL_A = "CAAAAAAAAAAAAAAAAAAA"
PIXEL_B = "CBBBBBBBBBBBBBBBBBBB"
SHA = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d"


def message(
    message_id: str,
    *event_ids: str,
    pixel: str = PIXEL_A,
    user: dict[str, Any] | None = None,
    claim_id: str | None = None,
) -> InboundMessage:
    events = [
        {"event": "Purchase", "event_id": eid, "event_time": 1795000000, "user": user or {"email": [SHA]}}
        for eid in event_ids
    ]
    body = {"v": 1, "pixel_code": pixel, "received_at": 1795000000.5, "events": events, "receipt": {}}
    if claim_id is not None:
        body["claim_id"] = claim_id
    return InboundMessage(message_id, json.dumps(body))


def leased() -> InMemoryDedupStore:
    return InMemoryDedupStore(mode=DedupMode.LEASE)


SLEPT: list[float] = []


def forwarder(
    api: ScriptedEventsApi,
    dedup: InMemoryDedupStore | None = None,
    dlq: MemoryDeadLetters | None = None,
    **kwargs: Any,
) -> Forwarder:
    SLEPT.clear()
    return Forwarder(
        dedup=dedup or InMemoryDedupStore(),
        events_api=api,
        dead_letters=dlq or MemoryDeadLetters(),
        owner="worker-1",
        clock=lambda: 1_795_000_100.0,
        sleep=SLEPT.append,
        jitter=lambda: 1.0,  # the largest delay full jitter can draw
        **kwargs,
    )


def sent_ids(api: ScriptedEventsApi) -> list[list[str]]:
    return [[item["event_id"] for item in request["data"]] for request in api.requests]  # type: ignore[index]


def test_events_are_batched_per_pixel_in_one_request_each() -> None:
    api = ScriptedEventsApi()
    report = forwarder(api).forward(
        [message("m1", "a", "b"), message("m2", "c", pixel=PIXEL_B), message("m3", "d")]
    )
    assert sorted(sent_ids(api)) == [["a", "b", "d"], ["c"]]
    assert {request["event_source_id"] for request in api.requests} == {PIXEL_A, PIXEL_B}
    assert all(request["event_source"] == "web" for request in api.requests)
    assert (report.delivered, report.failed_message_ids, report.requests) == (4, set(), 2)


def test_requests_never_exceed_the_configured_batch_size() -> None:
    api = ScriptedEventsApi()
    forwarder(api, max_events_per_request=2).forward([message("m1", "a", "b", "c", "d", "e")])
    assert [len(ids) for ids in sent_ids(api)] == [2, 2, 1]


def test_test_event_code_is_sent_at_the_top_level() -> None:
    api = ScriptedEventsApi()
    forwarder(api, test_event_code="TEST123").forward([message("m1", "a")])
    assert api.requests[0]["test_event_code"] == "TEST123"
    assert "test_event_code" not in api.requests[0]["data"][0]  # type: ignore[index]


def test_a_redelivered_message_is_never_sent_twice() -> None:
    api, dedup = ScriptedEventsApi(), InMemoryDedupStore()
    forwarder(api, dedup).forward([message("m1", "a")])
    report = forwarder(api, dedup).forward([message("m1-again", "a")])
    assert sent_ids(api) == [["a"]]
    assert (report.duplicates, report.failed_message_ids) == (1, set())


def test_the_same_event_twice_in_one_batch_is_sent_once() -> None:
    api = ScriptedEventsApi()
    report = forwarder(api).forward([message("m1", "a"), message("m2", "a")])
    assert sent_ids(api) == [["a"]]
    assert report.duplicates == 1 and report.failed_message_ids == set()


def test_happy_path_costs_one_write_per_event_and_one_receipt_per_request() -> None:
    dedup = InMemoryDedupStore()
    report = forwarder(ScriptedEventsApi(), dedup).forward([message("m1", "a", "b", "c", claim_id="c-1")])
    assert dedup.writes == report.dedup_writes == 3 + 1
    assert {(item.state, item.owner) for item in dedup.items.values()} == {("in_flight", "c-1")}
    (receipt,) = {item.receipt for item in dedup.items.values()}
    assert dedup.receipts == {receipt: {key_digest(dedup_key(PIXEL_A, "Purchase", e)) for e in "abc"}}


def test_a_message_delivered_whole_and_delivered_again_by_sqs_sends_nothing() -> None:
    api, dedup = ScriptedEventsApi(), InMemoryDedupStore()
    forwarder(api, dedup).forward([message("m1", "a", claim_id="c-1")])
    again = forwarder(api, dedup).forward([message("m1", "a", claim_id="c-1")])
    assert sent_ids(api) == [["a"]] and (again.duplicates, again.failed_message_ids) == (1, set())


def test_happy_path_costs_two_dedup_writes_per_event_under_a_lease() -> None:
    dedup = leased()
    forwarder(ScriptedEventsApi(), dedup).forward([message("m1", "a", "b", "c")])
    assert dedup.writes == 6
    assert all(item.state == "delivered" for item in dedup.items.values())


def test_a_message_that_comes_back_never_resends_what_tiktok_already_confirmed() -> None:
    # a and b go out in the first request and are confirmed; c's request fails until retries run out.
    api, dedup = (
        ScriptedEventsApi([(200, {"code": 0}), *[(503, "Service Unavailable")] * 3]),
        InMemoryDedupStore(),
    )
    fwd = forwarder(api, dedup, max_events_per_request=2)
    first = fwd.forward([message("m1", "a", "b", "c", claim_id="c-1")])
    assert first.failed_message_ids == {"m1"}
    assert dedup.items[dedup_key(PIXEL_A, "Purchase", "c")].owner == "c-1"  # kept for the message's return
    api.requests.clear()
    again = fwd.forward([message("m1", "a", "b", "c", claim_id="c-1")])
    assert sent_ids(api) == [["c"]]
    assert (again.delivered, again.duplicates, again.failed_message_ids) == (1, 2, set())


def test_a_message_resends_under_its_own_claim_and_another_message_waits_for_it() -> None:
    api, dedup = ScriptedEventsApi(), InMemoryDedupStore()
    # The claim a crashed invocation left behind; its message comes back after the visibility timeout
    # (360 s), when the claim's lease (120 s) has run out.
    dedup.claim_many(
        {dedup_key(PIXEL_A, "Purchase", "a"): Claim("c-1", "receipt#crashed#0")}, 1_795_000_100.0 - 360
    )
    other = forwarder(api, dedup, max_receive_count=14).forward([message("m2", "a", claim_id="c-2")])
    assert sent_ids(api) == [] and other.retry_reasons == {"m2": RetryReason.WAITING}
    # Redriven from the DLQ: a new SQS message id, the same claim_id.
    own = forwarder(api, dedup).forward([message("m1-redriven", "a", claim_id="c-1")])
    assert sent_ids(api) == [["a"]] and own.delivered == 1
    # Confirmed now: the copy that waited is a duplicate.
    again = forwarder(api, dedup, max_receive_count=14).forward([message("m2", "a", claim_id="c-2")])
    assert len(api.requests) == 1 and (again.duplicates, again.failed_message_ids) == (1, set())


def test_a_message_queued_before_claim_ids_existed_is_owned_by_its_sqs_message_id() -> None:
    api, dedup = ScriptedEventsApi(), InMemoryDedupStore()
    forwarder(api, dedup).forward([message("m1", "a")])
    assert dedup.items[dedup_key(PIXEL_A, "Purchase", "a")].owner == "m1"


def test_a_claim_id_that_is_not_a_plain_token_makes_the_message_malformed() -> None:
    dlq = MemoryDeadLetters()
    report = forwarder(ScriptedEventsApi(), dlq=dlq).forward([message("m1", "a", claim_id="x', 'pk': 'y")])
    assert report.parked == 1 and dlq.parked[0][1] == "malformed_message"


def test_dedup_keys_need_no_quoting_and_plain_ids_are_unchanged() -> None:
    assert dedup_key(PIXEL_A, "Purchase", "order-1_2.3~x") == f"{PIXEL_A}#Purchase#order-1_2.3~x"
    assert dedup_key(PIXEL_A, "Add To Cart", "it's\\{x}") == f"{PIXEL_A}#Add%20To%20Cart#it%27s%5C%7Bx%7D"


RETRYABLE = [(200, {"code": 50000}), (200, {"code": 40100}), (503, "Service Unavailable"), (None, None)]


@pytest.mark.parametrize("response", RETRYABLE)
def test_retryable_answers_are_retried_with_backoff_inside_the_invocation(response: tuple[Any, Any]) -> None:
    api = ScriptedEventsApi([response])
    report = forwarder(api).forward([message("m1", "a")])
    assert report.delivered == 1 and report.failed_message_ids == set()
    assert len(api.requests) == 2 and len(SLEPT) == 1


def test_backoff_grows_exponentially_and_rate_limits_wait_longer() -> None:
    forwarder(ScriptedEventsApi([(200, {"code": 50000})] * 2)).forward([message("m1", "a")])
    assert SLEPT == [0.2, 0.4]
    forwarder(ScriptedEventsApi([(200, {"code": 40100})] * 2)).forward([message("m1", "a")])
    assert SLEPT == [1.0, 2.0]


@pytest.mark.parametrize("response", RETRYABLE)
def test_when_retries_run_out_the_messages_fail_and_leased_claims_are_released(
    response: tuple[Any, Any],
) -> None:
    api, dedup = ScriptedEventsApi([response] * 3), leased()
    report = forwarder(api, dedup).forward([message("m1", "a"), message("m2", "b")])
    assert report.failed_message_ids == {"m1", "m2"}
    assert len(api.requests) == 3
    assert dedup.items == {}  # released: the SQS retry can claim them again at once
    retry = forwarder(api, dedup).forward([message("m1", "a"), message("m2", "b")])
    assert retry.failed_message_ids == set() and retry.delivered == 2


def test_when_retries_run_out_message_owned_claims_stay_for_the_messages_return() -> None:
    api, dedup = ScriptedEventsApi([(503, "Service Unavailable")] * 3), InMemoryDedupStore()
    report = forwarder(api, dedup).forward([message("m1", "a", claim_id="c-1")])
    assert report.failed_message_ids == {"m1"}
    assert dedup.writes == 2  # the claim, and its lease dropped so the message's return can send at once
    copy = forwarder(api, dedup, max_receive_count=14).forward([message("m2", "a", claim_id="c-2")])
    assert copy.failed_message_ids == {"m2"} and len(api.requests) == 3  # it waits for m1's outcome
    retry = forwarder(api, dedup).forward([message("m1", "a", claim_id="c-1")])
    assert retry.delivered == 1 and len(api.requests) == 4


def test_no_retry_past_the_invocation_deadline() -> None:
    api = ScriptedEventsApi([(200, {"code": 50000})])
    report = forwarder(api).forward([message("m1", "a")], deadline=1_795_000_100.1)
    assert report.failed_message_ids == {"m1"} and len(api.requests) == 1 and SLEPT == []


def test_maintenance_is_left_to_the_queue_not_retried_in_a_loop() -> None:
    api = ScriptedEventsApi([(200, {"code": 60001})])
    report = forwarder(api).forward([message("m1", "a")])
    assert report.failed_message_ids == {"m1"} and len(api.requests) == 1


def test_partial_ok_counts_as_delivered() -> None:
    api, dedup = ScriptedEventsApi([(200, {"code": 20001, "message": "Partial OK"})]), leased()
    report = forwarder(api, dedup).forward([message("m1", "a")])
    assert report.delivered == 1 and report.failed_message_ids == set()
    assert dedup.items[dedup_key(PIXEL_A, "Purchase", "a")].state == "delivered"


def rejects(*bad_ids: str) -> Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]:
    """TikTok rejecting a whole request when it holds one of `bad_ids` (a payload error)."""

    def respond(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if any(event["event_id"] in bad_ids for event in body["data"]):
            return 200, {"code": 40002, "message": "Batch.0.properties: bad", "request_id": "r-9"}
        return 200, {"code": 0, "message": "OK"}

    return respond


def test_permanent_answers_park_only_the_bad_events_with_the_reason() -> None:
    api, dlq = ScriptedEventsApi(respond=rejects("c")), MemoryDeadLetters()
    report = forwarder(api, dlq=dlq).forward([message("m1", "a", "b", "c", "d")])
    assert report.failed_message_ids == set()
    assert (report.delivered, report.parked) == (3, 1)
    body, reason, detail = dlq.parked[0]
    assert reason == "code:40002" and detail["request_id"] == "r-9"
    assert [e["event_id"] for e in json.loads(body)["events"]] == ["c"]
    assert SLEPT == []  # never retried


def test_configuration_errors_park_everything_without_splitting() -> None:
    api = ScriptedEventsApi([(200, {"code": 40105, "message": "Access token is invalid"})])
    dlq = MemoryDeadLetters()
    report = forwarder(api, dlq=dlq).forward([message("m1", "a", "b")])
    assert report.parked == 2 and len(api.requests) == 1
    assert dlq.parked[0][1] == "code:40105"


def test_crash_points_name_the_keys_a_crash_there_would_resend() -> None:
    points: list[tuple[str, list[str]]] = []
    hook = lambda point, keys: points.append((point, list(keys)))  # noqa: E731
    two = [message("m1", "a"), message("m2", "b", pixel=PIXEL_B)]
    forwarder(ScriptedEventsApi(), leased(), checkpoint=hook).forward(two)
    a, b = dedup_key(PIXEL_A, "Purchase", "a"), dedup_key(PIXEL_B, "Purchase", "b")
    assert points == [("claimed", [a, b]), ("sent", [a]), ("sent", [b])]  # each marked right after
    points.clear()
    forwarder(ScriptedEventsApi(), checkpoint=hook).forward(two)
    assert points == [("claimed", [a, b]), ("sent", [a]), ("sent", [b])]  # each receipt right after


def test_nothing_is_sent_once_the_claims_lease_may_have_run_out() -> None:
    clock = iter([1_795_000_100.0, 1_795_000_100.0, 1_795_000_200.0, 1_795_000_200.0, 1_795_000_200.0])
    api, dedup = ScriptedEventsApi(), leased()
    fwd = forwarder(api, dedup, send_window_seconds=30)
    report = dataclasses.replace(fwd, clock=lambda: next(clock)).forward([message("m1", "a")])
    assert api.requests == [] and report.failed_message_ids == {"m1"}
    assert dedup.items == {}  # released for the retry


def test_an_event_claimed_by_a_live_worker_fails_its_message_for_a_later_retry() -> None:
    api, dedup = ScriptedEventsApi(), leased()
    dedup.claim_many({dedup_key(PIXEL_A, "Purchase", "a"): Claim("other-worker")}, 1_795_000_090.0)
    report = forwarder(api, dedup).forward([message("m1", "a"), message("m2", "b")])
    assert report.failed_message_ids == {"m1"}
    assert sent_ids(api) == [["b"]]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((200, {"code": 60001}), RetryReason.MAINTENANCE),
        ((200, {"code": 61000}), RetryReason.RATE_LIMITED),
        ((429, "Too Many Requests"), RetryReason.RATE_LIMITED),
        ((503, "Service Unavailable"), RetryReason.FAULT),
        ((None, None), RetryReason.FAULT),
    ],
)
def test_each_failed_message_carries_why_it_failed(answer: tuple[Any, Any], reason: RetryReason) -> None:
    report = forwarder(ScriptedEventsApi([answer] * 3)).forward([message("m1", "a"), message("m2", "b")])
    assert report.retry_reasons == {"m1": reason, "m2": reason}
    assert report.failed_message_ids == set(report.retry_reasons)


def test_a_message_failed_for_several_reasons_keeps_the_one_asking_for_the_longest_wait() -> None:
    api, dedup = ScriptedEventsApi([(200, {"code": 40100})] * 3), leased()
    dedup.claim_many({dedup_key(PIXEL_A, "Purchase", "held"): Claim("other-worker")}, 1_795_000_090.0)
    report = forwarder(api, dedup).forward([message("m1", "held", "a"), message("m2", "held")])
    assert report.retry_reasons == {"m1": RetryReason.RATE_LIMITED, "m2": RetryReason.BUSY}


def test_an_unsent_request_and_a_capped_bisection_come_back_as_faults() -> None:
    api = ScriptedEventsApi([(200, {"code": 50000})])
    report = forwarder(api).forward([message("m1", "a")], deadline=1_795_000_100.1)
    assert report.retry_reasons == {"m1": RetryReason.FAULT}
    capped = forwarder(ScriptedEventsApi(respond=rejects("a")), max_bisect_requests=0, max_receive_count=5)
    assert capped.forward([message("m2", "a", "b")]).retry_reasons == {"m2": RetryReason.FAULT}


def test_an_expired_lease_is_taken_over() -> None:
    api, dedup = ScriptedEventsApi(), InMemoryDedupStore(mode=DedupMode.LEASE, lease_seconds=5)
    dedup.claim_many({dedup_key(PIXEL_A, "Purchase", "a"): Claim("crashed-worker")}, 1_795_000_000.0)
    report = forwarder(api, dedup).forward([message("m1", "a")])
    assert report.delivered == 1


def test_a_malformed_message_is_parked_at_once() -> None:
    api, dlq = ScriptedEventsApi(), MemoryDeadLetters()
    report = forwarder(api, dlq=dlq).forward([InboundMessage("bad", "{not json"), message("m1", "a")])
    assert report.parked == 1 and dlq.parked[0][1] == "malformed_message"
    assert report.failed_message_ids == set() and sent_ids(api) == [["a"]]


def test_raw_identifiers_from_a_direct_producer_are_hashed_before_sending() -> None:
    api = ScriptedEventsApi()
    forwarder(api).forward(
        [message("m1", "a", user={"email": ["Jane.Doe@Example.com"], "external_id": ["CRM-1"]})]
    )
    user = api.requests[0]["data"][0]["user"]  # type: ignore[index]
    assert user["email"] == [SHA]
    assert "CRM-1" not in json.dumps(api.requests)


def ids(count: int) -> list[str]:
    return [f"e-{index:04d}" for index in range(count)]


def parked_ids(dlq: MemoryDeadLetters, reason: str) -> list[str]:
    return sorted(
        e["event_id"] for body, why, _ in dlq.parked if why == reason for e in json.loads(body)["events"]
    )


def test_one_bad_event_in_a_full_batch_is_isolated_within_the_default_cap() -> None:
    api, dlq, dedup = ScriptedEventsApi(respond=rejects("e-0500")), MemoryDeadLetters(), InMemoryDedupStore()
    report = forwarder(api, dedup, dlq).forward([message("m1", *ids(1000))])
    assert (report.delivered, report.parked, report.failed_message_ids) == (999, 1, set())
    assert parked_ids(dlq, "code:40002") == ["e-0500"]
    assert len(api.requests) <= 1 + 20  # 20 = two requests per halving, ten halvings
    assert report.dedup_writes <= 2 * 1000


def test_bisection_stops_at_the_cap_and_parks_what_is_not_isolated_with_a_capped_reason() -> None:
    bad = ["e-0000", "e-0001", "e-0400"]
    api, dlq, dedup = ScriptedEventsApi(respond=rejects(*bad)), MemoryDeadLetters(), leased()
    report = forwarder(api, dedup, dlq, max_bisect_requests=6).forward([message("m1", *ids(1000))])
    assert len(api.requests) == 1 + 6
    assert report.delivered + report.parked == 1000 and report.failed_message_ids == set()
    capped = parked_ids(dlq, "code:40002:bisect_capped")
    assert set(bad) <= set(capped) and report.parked == len(capped)
    assert all(detail["request_id"] == "r-9" for _, _, detail in dlq.parked)  # TikTok's answer is kept
    # Parked events are released, delivered ones marked: a redrive sends the parked ones again.
    assert {item.state for item in dedup.items.values()} == {"delivered"}
    assert len(dedup.items) == report.delivered == 625


def test_breadth_first_the_cap_narrows_every_bad_half_alike() -> None:
    api, dlq = ScriptedEventsApi(respond=rejects("e-0000", "e-0999")), MemoryDeadLetters()
    report = forwarder(api, dlq=dlq, max_bisect_requests=8).forward([message("m1", *ids(1000))])
    # Depth first, eight requests would all go into the first half (500, 250, ... 4 events) and the
    # second half, good events included, would be parked unsent: nothing delivered.
    assert report.delivered >= 600 and report.parked == len(parked_ids(dlq, "code:40002:bisect_capped"))


def test_a_cap_of_zero_parks_the_rejected_batch_whole() -> None:
    api, dlq = ScriptedEventsApi(respond=rejects("b")), MemoryDeadLetters()
    report = forwarder(api, dlq=dlq, max_bisect_requests=0).forward([message("m1", "a", "b", "c")])
    assert len(api.requests) == 1 and report.parked == 3
    assert dlq.parked[0][1] == "code:40002:bisect_capped"


def test_retries_of_a_fault_during_bisection_do_not_spend_the_halving_budget() -> None:
    def respond(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if len(body["data"]) == 4:  # the whole batch: a payload error
            return 200, {"code": 40002, "message": "bad"}
        return 200, {"code": 50000, "message": "busy"}  # every half: retryable

    api = ScriptedEventsApi(respond=respond)
    report = forwarder(api, max_bisect_requests=2).forward([message("m1", "a", "b", "c", "d")])
    # Both halves are sent and each retried up to the backoff's 3 attempts: faults are not payload errors.
    assert len(api.requests) == 1 + 2 * 3
    assert report.failed_message_ids == {"m1"} and report.parked == 0  # released for SQS to bring back


def test_a_capped_batch_goes_back_to_the_queue_until_its_last_delivery() -> None:
    bad = ["e-0000", "e-0001", "e-0400"]
    for receive_count, parked in ((1, False), (4, False), (5, True)):
        api, dlq = ScriptedEventsApi(respond=rejects(*bad)), MemoryDeadLetters()
        inbound = message("m1", *ids(1000))
        inbound = InboundMessage(inbound.message_id, inbound.body, receive_count=receive_count)
        report = forwarder(api, dlq=dlq, max_bisect_requests=6, max_receive_count=5).forward([inbound])
        capped = parked_ids(dlq, "code:40002:bisect_capped")
        # Good events may sit in a capped group: while SQS brings the message back, the next invocation
        # halves further with a fresh budget; only the last delivery parks what is still unresolved.
        assert bool(capped) is parked and (report.failed_message_ids == {"m1"}) is not parked
        assert report.delivered == 625


# --- shadow mode: a test event code per pixel -----------------------------------------------------------


def test_a_pixels_own_test_code_marks_only_that_pixels_requests() -> None:
    api = ScriptedEventsApi()
    report = forwarder(api, test_event_codes={PIXEL_B: "TESTNEW"}).forward(
        [message("m1", "a", "b"), message("m2", "c", pixel=PIXEL_B)]
    )
    by_pixel = {request["event_source_id"]: request for request in api.requests}
    assert by_pixel[PIXEL_B]["test_event_code"] == "TESTNEW"
    assert "test_event_code" not in by_pixel[PIXEL_A]  # the other pixel stays live
    assert all("test_event_code" not in item for item in by_pixel[PIXEL_B]["data"])  # type: ignore[attr-defined]
    assert report.delivered == 3 and report.requests == 2


def test_the_deployment_wide_code_is_the_default_and_an_empty_pixel_code_keeps_it_live() -> None:
    api = ScriptedEventsApi()
    forwarder(api, test_event_code="TESTALL", test_event_codes={PIXEL_A: ""}).forward(
        [message("m1", "a"), message("m2", "c", pixel=PIXEL_B)]
    )
    by_pixel = {request["event_source_id"]: request for request in api.requests}
    assert "test_event_code" not in by_pixel[PIXEL_A]
    assert by_pixel[PIXEL_B]["test_event_code"] == "TESTALL"


def test_every_request_of_a_shadowed_pixel_carries_its_code() -> None:
    api = ScriptedEventsApi()
    forwarder(api, max_events_per_request=2, test_event_codes={PIXEL_A: "TESTNEW"}).forward(
        [message("m1", "a", "b", "c")]
    )
    assert [request["test_event_code"] for request in api.requests] == ["TESTNEW", "TESTNEW"]


def test_forward_settings_read_test_event_codes_from_pixel_code_pairs() -> None:
    settings = ForwardSettings(
        dedup_table_name="t",
        access_token_secret_arn="arn",
        test_event_codes=f" {PIXEL_A}=TEST_1 ,{PIXEL_B}=,",  # type: ignore[arg-type]  # the env form
    )
    assert settings.test_event_codes == {PIXEL_A: "TEST_1", PIXEL_B: ""}
    assert ForwardSettings(dedup_table_name="t", access_token_secret_arn="arn").test_event_codes == {}


@pytest.mark.parametrize("value", [PIXEL_A, f"{PIXEL_A}=TEST 1", "=TEST1", f'{PIXEL_A}="x"'])
def test_forward_settings_refuse_test_event_codes_that_are_not_pixel_code_pairs(value: str) -> None:
    with pytest.raises(ValidationError, match="PIXEL=CODE"):
        ForwardSettings(dedup_table_name="t", access_token_secret_arn="arn", test_event_codes=value)  # type: ignore[arg-type]


def test_forward_settings_take_test_event_codes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUP_TABLE_NAME", "t")
    monkeypatch.setenv("ACCESS_TOKEN_SECRET_ARN", "arn")
    monkeypatch.setenv("TEST_EVENT_CODES", f"{PIXEL_B}=TESTNEW")
    assert ForwardSettings.from_environment().test_event_codes == {PIXEL_B: "TESTNEW"}


def test_a_message_back_in_one_batch_with_a_copy_of_its_event_still_sends_it() -> None:
    api, dedup = ScriptedEventsApi([(503, "Service Unavailable")] * 3), InMemoryDedupStore()
    forwarder(api, dedup).forward([message("m2", "k", claim_id="c-2")])  # claims k, fails: m2 comes back
    # The browser's copy (m1) sorts first in the next batch; m2's claim is still m2's own.
    report = forwarder(api, dedup).forward(
        [message("m1", "k", claim_id="c-1"), message("m2", "k", claim_id="c-2")]
    )
    assert sent_ids(api)[-1] == ["k"] and report.delivered == 1 and report.failed_message_ids == set()


def test_a_message_waiting_for_its_retry_is_still_sent_after_a_switch_to_lease_mode() -> None:
    api, dedup = ScriptedEventsApi([(503, "Service Unavailable")] * 3), InMemoryDedupStore()
    forwarder(api, dedup).forward([message("m1", "a", claim_id="c-1")])
    dedup.mode = DedupMode.LEASE  # DedupMode changed by a deploy while m1 waits for its next delivery
    report = forwarder(api, dedup).forward([message("m1", "a", claim_id="c-1")])
    assert sent_ids(api)[-1] == ["a"] and report.delivered == 1


def test_a_second_copy_of_a_message_waits_while_the_first_may_be_sending_and_then_sends_nothing() -> None:
    api, dedup = ScriptedEventsApi(), InMemoryDedupStore()
    key = dedup_key(PIXEL_A, "Purchase", "a")
    now = 1_795_000_100.0
    # Copy A of the message has claimed the event and is sending it (its lease is live).
    dedup.claim_many({key: Claim("c-1", "receipt#copy-a#0")}, now - 1)
    copy_b = forwarder(api, dedup).forward([message("m1", "a", claim_id="c-1")])
    assert sent_ids(api) == [] and copy_b.retry_reasons == {"m1": RetryReason.BUSY}
    dedup.mark_delivered({key: Claim("c-1", "receipt#copy-a#0")}, now)  # TikTok confirmed A's request
    again = forwarder(api, dedup).forward([message("m1", "a", claim_id="c-1")])
    assert sent_ids(api) == [] and again.duplicates == 1 and again.failed_message_ids == set()


def test_a_confirmation_recorded_under_an_earlier_delivery_is_still_found() -> None:
    dedup, key, t0 = (
        InMemoryDedupStore(lease_seconds=60),
        dedup_key(PIXEL_A, "Purchase", "a"),
        1_795_000_000.0,
    )
    dedup.claim_many({key: Claim("c-1", "receipt#first#0")}, t0)
    # The first delivery overran its lease; the next took the claim under its own receipt ...
    assert dedup.claim_many({key: Claim("c-1", "receipt#second#0")}, t0 + 61)[key] is ClaimResult.CLAIMED
    dedup.mark_delivered({key: Claim("c-1", "receipt#first#0")}, t0 + 62)  # ... then the first was confirmed
    assert dedup.claim_many({key: Claim("c-1", "receipt#third#0")}, t0 + 200)[key] is ClaimResult.DELIVERED


def test_every_copy_of_a_duplicate_is_counted_once() -> None:
    api, dedup = ScriptedEventsApi(), InMemoryDedupStore()
    forwarder(api, dedup).forward([message("m1", "a", claim_id="c-1")])
    report = forwarder(api, dedup).forward(
        [message("m2", "a", claim_id="c-2"), message("m3", "a", claim_id="c-3")]
    )
    assert report.duplicates == 2 and len(api.requests) == 1


# --- copies of one event in other messages: only a confirmation makes them duplicates -------------------

BAD_SHA = "f" * 64  # marks the copy TikTok refuses (its properties, say): same pixel, event and event_id


def refuses_bad_copies(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if any(event["user"].get("email") == [BAD_SHA] for event in body["data"]):
        return 200, {"code": 40002, "message": "Batch.0.properties: bad", "request_id": "r-bad"}
    return 200, {"code": 0, "message": "OK"}


def accepted_users(api: ScriptedEventsApi) -> list[list[str]]:
    """The user email of every event TikTok accepted (a request without the bad copy)."""
    return [
        [event["user"]["email"][0] for event in request["data"]]  # type: ignore[index]
        for request in api.requests
        if all(event["user"].get("email") != [BAD_SHA] for event in request["data"])  # type: ignore[attr-defined]
    ]


@pytest.mark.parametrize("mode", list(DedupMode))
def test_a_good_copy_waits_while_a_refused_copy_holds_the_claim_and_is_sent_once_that_one_is_parked(
    mode: DedupMode,
) -> None:
    # The attack: a copy of an order's event_id claimed first, by a message TikTok later refuses.
    dedup, dlq = InMemoryDedupStore(mode=mode), MemoryDeadLetters()
    outage = ScriptedEventsApi([(503, "Service Unavailable")] * 3, respond=refuses_bad_copies)
    fwd = forwarder(outage, dedup, dlq, max_receive_count=14)
    bad = message("m-bad", "order-7", user={"email": [BAD_SHA]}, claim_id="c-bad")
    assert fwd.forward([bad]).failed_message_ids == {"m-bad"}  # claimed, not sent: back in seconds
    good = message("m-good", "order-7", claim_id="c-good")
    waiting = fwd.forward([good])
    if mode is DedupMode.MESSAGE:  # the claim stays the refused copy's message's until its outcome
        assert waiting.retry_reasons == {"m-good": RetryReason.WAITING} and waiting.duplicates == 0
        parked = fwd.forward([bad])  # the holder comes back, is refused and parked: its claim is released
        assert (parked.parked, parked.failed_message_ids) == (1, set()) and dlq.parked[0][1] == "code:40002"
        waiting = fwd.forward([good])
    # lease mode: a worker's claim is released after its failed send, so the good copy claims at once.
    assert (waiting.delivered, waiting.failed_message_ids) == (1, set())
    assert accepted_users(outage) == [[SHA]]


@pytest.mark.parametrize("mode", list(DedupMode))
def test_a_refused_copy_first_in_a_batch_does_not_take_the_good_copy_down_with_it(mode: DedupMode) -> None:
    api, dlq = ScriptedEventsApi(respond=refuses_bad_copies), MemoryDeadLetters()
    fwd = forwarder(api, InMemoryDedupStore(mode=mode), dlq, max_receive_count=14)
    bad = message("m-bad", "order-8", user={"email": [BAD_SHA]}, claim_id="c-bad")
    good = message("m-good", "order-8", "other", claim_id="c-good")
    first = fwd.forward([bad, good])  # one request holds the refused copy: it alone is parked
    assert first.parked == 1 and first.retry_reasons == {"m-good": RetryReason.WAITING}
    assert [json.loads(body)["claim_id"] for body, _, _ in dlq.parked] == ["c-bad"]
    back = fwd.forward([good])  # the good copy's own turn; "other" was confirmed the first time
    assert (back.delivered, back.duplicates, back.failed_message_ids) == (1, 1, set())
    assert sorted(map(sorted, accepted_users(api))) == [[SHA], [SHA]]  # "other", then order-8's good copy


def test_a_copy_on_its_last_delivery_takes_over_a_claim_no_send_holds() -> None:
    # The bound of a wait: the holder's message retried through an outage and SQS moved it to the DLQ
    # with its claim; the copy does not wait for a redrive that may never come.
    api, dedup = ScriptedEventsApi([(503, "Service Unavailable")] * 3), InMemoryDedupStore()
    fwd = forwarder(api, dedup, max_receive_count=14)
    fwd.forward([message("m-holder", "order-9", claim_id="c-1")])
    copy = message("m-copy", "order-9", claim_id="c-2")
    assert fwd.forward([copy]).retry_reasons == {"m-copy": RetryReason.WAITING}
    last = InboundMessage(copy.message_id, copy.body, receive_count=14)
    assert fwd.forward([last]).delivered == 1 and len(api.requests) == 4
    # The holder, if ever redriven, finds the copy's receipt: a duplicate, nothing sent.
    redriven = fwd.forward([message("m-holder-redriven", "order-9", claim_id="c-1")])
    assert redriven.duplicates == 1 and len(api.requests) == 4


# --- redrive: a confirmed event is never sent again while the table remembers it --------------------------

RECEIVED_AT = 1_795_000_000.5  # message()'s received_at
DAY = 24 * 3600


@pytest.mark.parametrize("mode", list(DedupMode))
def test_a_message_redriven_at_the_end_of_the_dlqs_retention_does_not_resend_a_confirmed_event(
    mode: DedupMode,
) -> None:
    from ttrelay.forward.dlq import outlived_dedup_memory

    # "a" is confirmed; "b" keeps failing until SQS moves the message to the DLQ (default TTL, 19 days).
    dedup = InMemoryDedupStore(mode=mode)
    api = ScriptedEventsApi([(200, {"code": 0}), *[(503, "Service Unavailable")] * 3])
    fwd = forwarder(api, dedup, max_events_per_request=1, max_receive_count=14)
    parked = message("m1", "a", "b", claim_id="c-1")
    assert fwd.forward([parked]).failed_message_ids == {"m1"}
    # Redriven on the DLQ's last day: 4 days queued, 14 parked. The redrive lets it through ...
    later = RECEIVED_AT + 18 * DAY
    assert not outlived_dedup_memory(parked.body, later, dedup.ttl_seconds)
    api.requests.clear()  # TikTok is back: every request succeeds
    redriven = dataclasses.replace(fwd, clock=lambda: later).forward(
        [message("m1-redriven", "a", "b", claim_id="c-1")]
    )
    # ... and only "b" goes out: "a"'s confirmation is still remembered.
    assert sent_ids(api) == [["b"]] and (redriven.delivered, redriven.duplicates) == (1, 1)


def test_a_redrive_past_the_dedup_memory_would_resend_which_is_why_it_is_left_in_the_dlq() -> None:
    from ttrelay.forward.dlq import outlived_dedup_memory

    dedup = InMemoryDedupStore(ttl_seconds=120 * 3600)  # a stack deployed with DedupTtlHours=120, the least
    api = ScriptedEventsApi()
    forwarder(api, dedup).forward([message("m1", "a", claim_id="c-1")])
    later = RECEIVED_AT + 6 * DAY
    assert outlived_dedup_memory(message("m1", "a", claim_id="c-1").body, later, dedup.ttl_seconds)
    # What a redrive would do anyway: the claim is past its TTL, the event goes out a second time.
    again = dataclasses.replace(forwarder(api, dedup), clock=lambda: later)
    assert again.forward([message("m1-redriven", "a", claim_id="c-1")]).delivered == 1
    assert sent_ids(api) == [["a"], ["a"]]
