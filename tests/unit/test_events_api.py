"""Events API response classification against ../shared/vectors/capi-responses.json."""

import pytest
from support.paths import load_vectors
from ttrelay.forward.events_api import Verdict, classify


def test_every_vector_is_classified_as_expected() -> None:
    for case in load_vectors("capi-responses.json")["cases"]:
        outcome = classify(case["http_status"], case["body"], case.get("transport_error"))
        assert outcome.verdict == case["expect"], case["why"]


def test_success_is_judged_by_the_body_code_not_the_http_status() -> None:
    assert classify(200, {"code": 40002, "message": "bad"}).verdict is Verdict.PERMANENT
    assert classify(200, {"code": 0, "message": "OK"}).verdict is Verdict.SUCCESS


def test_request_id_and_message_are_kept_for_the_logs_and_dlq() -> None:
    outcome = classify(200, {"code": 40002, "message": "Batch.0.x: Not a valid string", "request_id": "r-1"})
    assert (outcome.reason, outcome.request_id, outcome.message) == (
        "code:40002",
        "r-1",
        "Batch.0.x: Not a valid string",
    )


@pytest.mark.parametrize("code", [40001, 40102, 40104, 40105, 40063, 41234])
def test_configuration_and_unknown_codes_raise_an_alert(code: int) -> None:
    outcome = classify(200, {"code": code})
    assert outcome.verdict is Verdict.PERMANENT
    assert outcome.alert


@pytest.mark.parametrize("code", [40100, 61000, 40016, 40132, 40133])
def test_rate_limits_are_retryable_and_flagged(code: int) -> None:
    outcome = classify(200, {"code": code})
    assert outcome.verdict is Verdict.RETRY
    assert outcome.rate_limited


def test_a_json_true_code_is_not_mistaken_for_code_1() -> None:
    assert classify(502, {"code": True}).verdict is Verdict.RETRY
