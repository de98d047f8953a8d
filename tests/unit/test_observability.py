"""The collector's structured log line and metrics name rejected events' error paths and types, never
their values."""

import json
from typing import Any

import pytest
from support.adversarial import NOW
from support.printed import collected_lines, json_lines
from ttrelay.collect.event_judgement import judge_events
from ttrelay.collect.rejection import CollectRejected
from ttrelay.collect.request_limits import EventTimeWindow
from ttrelay.collect.use_case import CollectOutcome
from ttrelay.consent.model import ConsentDecision
from ttrelay.observability.telemetry import (
    REJECTION_DIMENSION,
    REJECTION_METRIC,
    REQUEST_ID_KEY,
    log_invocation,
    logger,
    metrics,
    report_collected,
    report_rejected,
)

SECRET = "jane.private@example.com"


def printed(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return json_lines(capsys.readouterr().out)


def collected(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The `collected` lines printed since the last read: the request's EMF document with its log fields."""
    return collected_lines(printed(capsys))


def error_counts(lines: list[dict[str, Any]]) -> dict[str, int]:
    """{error type: count} from the EMF blobs of the rejection metric."""
    return {
        line[REJECTION_DIMENSION]: sum(line[REJECTION_METRIC])
        for line in lines
        if REJECTION_METRIC in line and REJECTION_DIMENSION in line
    }


def test_a_partly_rejected_request_logs_paths_and_counts_errors_by_type(capsys) -> None:
    events = [
        {"event": "Lead", "properties": {"currency": SECRET}},
        {"event": SECRET},
        {"event": "Lead", "event_time": 12},
        {"event": "Lead", "event_time": int(NOW) + 3600},
    ]
    judgement = judge_events(events, EventTimeWindow(NOW, 300, 86_400))
    decision = ConsentDecision(
        action="forward", regime="opt_out", reason="no_objection", limited_data_use=False
    )
    outcome = CollectOutcome(1, 0, decision, {"action": "forward"}, None, judgement=judgement)
    capsys.readouterr()
    report_collected(outcome)
    lines = printed(capsys)
    (log,) = collected_lines(lines)
    assert SECRET not in json.dumps(lines)
    assert log["rejected"] == 3
    assert log["rejected_paths"] == ["events.1.event", "events.2.event_time", "events.3.event_time"]
    assert log["warning_paths"] == ["events.0.properties.currency"]
    assert error_counts(lines) == {
        "string_pattern_mismatch": 1,
        "greater_than_equal": 1,
        "event_time_window": 1,
    }


def test_the_collected_line_counts_usable_events_per_source_and_leaves_out_no_source(capsys) -> None:
    events = [
        {"event": "AddToCart", "source": "ttq"},
        {"event": "Purchase", "source": "dataLayer"},
        {"event": "ViewContent", "source": "ttq"},
        {"event": "Lead"},  # an older snippet or a backend: no source, not counted
        {"event": "Lead", "source": "gtm"},  # rejected: its source is unknown, not counted
    ]
    window = EventTimeWindow(NOW, 300, 86_400)
    decision = ConsentDecision(
        action="drop", regime="opt_in", reason="no_consent_signal", limited_data_use=False
    )
    for sent in (events, events[3:4]):
        judgement = judge_events(sent, window)
        report_collected(CollectOutcome(0, len(judgement.usable), decision, {}, None, judgement=judgement))

    tagged, untagged = collected(capsys)
    assert tagged["sources"] == {"ttq": 2, "dataLayer": 1}
    assert "sources" not in untagged  # no empty object: CloudWatch Logs bills every byte


def test_a_400_logs_its_error_paths_and_counts_them_by_type(capsys, caplog) -> None:
    errors = [{"loc": "events.0.event", "type": "string_too_short", "msg": "m"}, {"msg": "no loc"}]
    metrics.clear_metrics()  # what earlier tests of the forwarder left there
    capsys.readouterr()
    report_rejected(CollectRejected(400, "invalid_request", errors))
    lines = printed(capsys)
    (log,) = [record.__dict__ for record in caplog.records if record.getMessage() == "rejected"]
    assert log["error_paths"] == ["events.0.event"]
    assert error_counts(lines) == {"string_too_short": 1, "invalid_request": 1}
    # The dashboard's and the alarms' count of refused requests: under [service] alone, written at once
    # (the collector's handler has no log_metrics wrapper to flush it later).
    (total,) = [line for line in lines if "RequestsRejected" in line]
    assert total["RequestsRejected"] == [1.0]
    assert total["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert not metrics.metric_set  # nothing left for a flush that the collector never makes


def test_the_consent_receipt_line_leaves_out_only_what_is_empty_or_said_elsewhere(capsys) -> None:
    decision = ConsentDecision(action="forward", regime="opt_in", reason="grant:tcf", limited_data_use=False)
    receipt = {
        "policy_version": "2026-11-01.1",
        "decided_at": 1_793_491_200,  # the line's own timestamp
        "regime": "opt_in",
        "action": "forward",
        "limited_data_use": False,  # true exactly when action is "limited"
        "signals_present": ["tcf"],
        "signal_sources": {"request": ["tcf"], "cookies": []},
        "regimes_considered": ["opt_in"],  # just the regime
        "tcf_cmp_id": 300,
        "tcf_policy_version": None,
        "gpp_section_ids": [],
        "location": {"country": None, "subdivision": None, "source": "none"},
    }
    report_collected(CollectOutcome(1, 0, decision, receipt, None))
    (log,) = collected(capsys)
    assert log["consent_receipt"] == {
        "policy_version": "2026-11-01.1",
        "regime": "opt_in",
        "action": "forward",
        "signals_present": ["tcf"],  # all from the request: signal_sources is left out
        "tcf_cmp_id": 300,
        "location": {"source": "none"},
    }
    assert "dropped" not in log  # a zero count is left out
    weighed = {**receipt, "regime": "opt_in", "regimes_considered": ["opt_out", "opt_in"]}
    report_collected(CollectOutcome(0, 1, decision, weighed, None))
    (log,) = collected(capsys)
    assert log["consent_receipt"]["regimes_considered"] == ["opt_out", "opt_in"] and log["dropped"] == 1
    with_cookies = {
        **receipt,
        "signals_present": ["tcf", "cmp"],
        "signal_sources": {"request": ["tcf"], "cookies": ["cmp"]},
    }
    report_collected(CollectOutcome(1, 0, decision, with_cookies, None))
    (log,) = collected(capsys)
    assert log["consent_receipt"]["signal_sources"] == {"request": ["tcf"], "cookies": ["cmp"]}


@pytest.mark.parametrize(
    ("log_level", "printed_levels"), [("WARNING", ["WARNING"]), ("INFO", ["INFO", "WARNING"])]
)
def test_in_lambda_a_stricter_log_level_still_applies_and_timestamps_are_rfc3339(
    log_level: str, printed_levels: list[str]
) -> None:
    """Lambda's application level is INFO at most (template.yaml: EMF documents count as INFO to Lambda),
    and Powertools follows it before LOG_LEVEL; the functions still honour a stricter LogLevel."""
    import os
    import subprocess
    import sys

    script = "from ttrelay.observability.telemetry import logger; logger.info('i'); logger.warning('w')"
    env = {
        **os.environ,
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
        "LOG_LEVEL": log_level,
        "POWERTOOLS_SERVICE_NAME": "t",
    }
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["level"] for line in lines] == printed_levels
    assert all(
        "T" in line["timestamp"] and line["timestamp"][-6] in "+-" for line in lines
    )  # 2026-12-01T13:40:10.382+00:00


def test_a_collected_request_writes_one_line_its_counts_and_its_receipt(capsys) -> None:
    """One line per request: the EMF document carries the `collected` fields beside its metrics, so
    CloudWatch extracts the counts and Logs Insights finds the receipt (and the request id) on it."""
    decision = ConsentDecision(action="forward", regime="opt_in", reason="grant:tcf", limited_data_use=False)
    log_invocation("req-7")
    try:
        report_collected(CollectOutcome(1, 0, decision, {"action": "forward", "regime": "opt_in"}, None))
    finally:
        logger.remove_keys([REQUEST_ID_KEY])
    (line,) = printed(capsys)
    assert line["message"] == "collected" and line[REQUEST_ID_KEY] == "req-7"
    assert line["consent_receipt"] == {"action": "forward", "regime": "opt_in"} and line["accepted"] == 1
    (declared,) = line["_aws"]["CloudWatchMetrics"]
    metric_names = [metric["Name"] for metric in declared["Metrics"]]
    assert metric_names == ["RequestsCollected", "EventsAccepted"] and line["EventsAccepted"] == [1.0]
    # No field of the receipt is declared as a metric or a dimension: they stay log fields.
    assert not {"message", REQUEST_ID_KEY, "consent_receipt", "accepted"} & {
        *metric_names,
        *(name for dimension_set in declared["Dimensions"] for name in dimension_set),
    }


@pytest.mark.parametrize(
    ("environment", "fields_written", "metrics_written"),
    [
        ({"LOG_LEVEL": "WARNING"}, False, True),  # a stricter level: the counts alone
        ({"POWERTOOLS_METRICS_DISABLED": "true"}, True, False),  # no metrics: the fields alone
        ({}, True, True),
    ],
)
def test_the_collected_fields_follow_the_log_level_and_outlive_disabled_metrics(
    environment: dict[str, str], fields_written: bool, metrics_written: bool
) -> None:
    """In a fresh interpreter, as Lambda starts the function: the level is read at import."""
    import os
    import subprocess
    import sys

    script = (
        "from ttrelay.collect.use_case import CollectOutcome\n"
        "from ttrelay.consent.model import ConsentDecision\n"
        "from ttrelay.observability.telemetry import report_collected\n"
        "decision = ConsentDecision(action='forward', regime='opt_in', reason='r', limited_data_use=False)\n"
        "report_collected(CollectOutcome(1, 0, decision, {'action': 'forward'}, None))\n"
    )
    env = {**os.environ, "AWS_LAMBDA_LOG_LEVEL": "INFO", "POWERTOOLS_SERVICE_NAME": "t", **environment}
    env.setdefault("LOG_LEVEL", "INFO")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    lines = json_lines(out.stdout)
    assert len(lines) == int(fields_written or metrics_written)
    assert bool(collected_lines(lines)) == fields_written
    assert any("_aws" in line for line in lines) == metrics_written
