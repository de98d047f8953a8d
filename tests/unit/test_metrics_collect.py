"""The collector's EMF metrics: counts per pixel (and a service-wide total for the alarms), drops by
regime and reason kind, errors by type, and match-key coverage of accepted events — captured from stdout
as CloudWatch would read them."""

import json
from typing import Any

import pytest
from support.encoders import TcCore, tc_string
from support.fakes import MemoryQueue
from ttrelay.collect.cookie import SigningKeys
from ttrelay.collect.use_case import CollectDeps, CollectOutcome, HttpRequest, collect
from ttrelay.config import CollectSettings
from ttrelay.consent.policy import load_policy
from ttrelay.observability.pixel_metrics import OTHER_PIXEL
from ttrelay.observability.telemetry import (
    MATCH_KEY_METRICS,
    TCF_VENDOR_UNCONFIGURED_METRIC,
    drop_reason_kind,
    report_collected,
)

PIXEL = "CTTRELAYTESTPIXEL001"
SITE = "https://shop.example.com"
NOW = 1_795_000_000.0
EMAIL = "jane.private@example.com"
SERVICE = "ttrelay-tests"


def emf_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]


def dimension_sets(line: dict[str, Any]) -> list[list[str]]:
    return [sorted(names) for names in line["_aws"]["CloudWatchMetrics"][0]["Dimensions"]]


def blob_with(lines: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    return [line for line in lines if metric in line]


def collected(body: dict[str, Any], pixel_codes: tuple[str, ...] = (PIXEL,)) -> CollectOutcome:
    settings = CollectSettings.model_validate(
        {
            "events_queue_url": "q",
            "cookie_keys_secret_arn": "s",
            "pixel_codes": pixel_codes,
            "allowed_origins": (SITE,),
        }
    )
    deps = CollectDeps(
        settings=settings,
        queue=MemoryQueue(),
        policy=load_policy(),
        signing_keys=lambda: SigningKeys.from_secret({"active_kid": "k1", "k1": "x" * 40}),
        clock=lambda: NOW,
    )
    request = HttpRequest(
        body=json.dumps({"pixel_code": pixel_codes[0], **body}).encode(),
        headers={"content-type": "application/json", "origin": SITE},
        cookies={},
        source_ip="203.0.113.24",
        user_agent="Mozilla/5.0 test",
    )
    return collect(request, deps)


def test_an_accepted_request_counts_per_pixel_with_a_service_total_and_match_key_coverage(capsys) -> None:
    outcome = collected(
        {
            "consent": {"cmp": {"marketing": True}},
            "context": {"ttclid": "click-1"},
            "user": {"email": EMAIL},
            "events": [
                {"event": "Purchase", "event_id": "o-1"},
                {"event": "Lead", "event_id": "o-2", "properties": {"phone": "+33612345678"}},
                {"event": "Lead", "event_time": 12},  # rejected: before 2015
            ],
        }
    )
    capsys.readouterr()
    report_collected(outcome, known_pixels=(PIXEL,))
    lines = emf_lines(capsys)

    (main,) = blob_with(lines, "EventsReceived")
    assert main["pixel"] == PIXEL and main["service"] == SERVICE
    # One value, two metrics: per pixel, and the service-wide total the alarms use.
    assert dimension_sets(main) == [["pixel", "service"], ["service"]]
    counts = {name: main[name] for name in ("RequestsCollected", "EventsReceived", "EventsAccepted")}
    assert counts == {"RequestsCollected": [1.0], "EventsReceived": [3.0], "EventsAccepted": [2.0]}
    assert main["EventsRejected"] == [1.0]
    # Zero counts are left out (log bytes are billed; a missing datapoint sums to zero).
    assert "EventsDroppedByConsent" not in main and "OriginVerificationFailed" not in main
    coverage = {key: main.get(metric, [0])[0] for key, metric in MATCH_KEY_METRICS.items()}
    # Both events carry the request's ttclid, email, IP and user agent; only one has a phone; none a ttp.
    assert coverage == {
        "ttclid": 2,
        "ttp": 0,
        "email": 2,
        "phone": 1,
        "external_id": 0,
        "ip_user_agent": 2,
    }
    (errors,) = blob_with(lines, "EventErrors")
    assert (errors["pixel"], errors["error_type"], errors["EventErrors"]) == (
        PIXEL,
        "greater_than_equal",
        [1.0],
    )
    assert dimension_sets(errors) == [["error_type", "pixel", "service"]]
    assert not blob_with(lines, "EventsDroppedByReason")  # nothing dropped: no zero-valued breakdown
    assert EMAIL not in json.dumps(lines)


def test_a_consent_drop_counts_by_regime_and_bounded_reason(capsys) -> None:
    outcome = collected({"events": [{"event": "Purchase", "event_id": "o-1"}]})
    assert outcome.decision.action == "drop"  # unknown location is opt-in; no signal at all
    capsys.readouterr()
    report_collected(outcome, known_pixels=(PIXEL,))
    lines = emf_lines(capsys)

    (drop,) = blob_with(lines, "EventsDroppedByReason")
    assert dimension_sets(drop) == [["pixel", "reason", "regime", "service"]]
    assert (drop["regime"], drop["reason"], drop["EventsDroppedByReason"]) == (
        "opt_in",
        "no_consent_signal",
        [1.0],
    )
    (main,) = blob_with(lines, "EventsReceived")
    assert main["EventsDroppedByConsent"] == [1.0] and "EventsAccepted" not in main
    assert MATCH_KEY_METRICS["ttclid"] not in main  # coverage counts accepted events only


@pytest.mark.parametrize("cmp", [None, True], ids=["dropped", "granted-by-the-cmp"])
def test_a_tc_string_unused_for_lack_of_a_vendor_id_is_counted_whatever_the_decision(
    capsys, cmp: bool | None
) -> None:
    deciseconds = int(NOW) * 10
    tcf = tc_string(TcCore(created_ds=deciseconds, last_updated_ds=deciseconds).bits())  # would grant
    consent: dict[str, Any] = {"tcf": tcf} | ({"cmp": {"marketing": cmp}} if cmp else {})
    outcome = collected({"consent": consent, "events": [{"event": "Purchase", "event_id": "o-1"}]})
    capsys.readouterr()
    report_collected(outcome, known_pixels=(PIXEL,))
    lines = emf_lines(capsys)

    (main,) = blob_with(lines, "EventsReceived")
    assert main[TCF_VENDOR_UNCONFIGURED_METRIC] == [1.0]
    assert dimension_sets(main) == [["pixel", "service"], ["service"]]  # a service-wide total to alarm on
    if cmp is None:
        (drop,) = blob_with(lines, "EventsDroppedByReason")
        assert (drop["reason"], drop["EventsDroppedByReason"]) == ("tcf_vendor_unconfigured", [1.0])


def test_a_request_without_a_tc_string_does_not_count_as_vendor_unconfigured(capsys) -> None:
    outcome = collected({"consent": {"cmp": {"marketing": True}}, "events": [{"event": "Lead"}]})
    capsys.readouterr()
    report_collected(outcome, known_pixels=(PIXEL,))
    (main,) = blob_with(emf_lines(capsys), "EventsReceived")
    assert TCF_VENDOR_UNCONFIGURED_METRIC not in main


def test_a_pixel_outside_the_allowlist_is_counted_as_other(capsys) -> None:
    outcome = collected({"consent": {"cmp": {"marketing": True}}, "events": [{"event": "Lead"}]})
    capsys.readouterr()
    report_collected(outcome, known_pixels=("CANOTHERPIXEL0000001",))
    (main,) = blob_with(emf_lines(capsys), "EventsReceived")
    assert main["pixel"] == OTHER_PIXEL and main["EventsAccepted"] == [1.0]


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("deny:tcf:purpose_7", "deny:tcf"),
        ("deny:cookie.cmp:marketing", "deny:cookie.cmp"),
        ("opt_out:gpp.usnat:opted_out", "opt_out:gpp.usnat"),
        ("grant:gpp.tcfeuv2", "grant:gpp.tcfeuv2"),
        ("no_consent_signal", "no_consent_signal"),
    ],
)
def test_drop_reasons_keep_only_their_verdict_and_source(reason: str, kind: str) -> None:
    assert drop_reason_kind(reason) == kind
