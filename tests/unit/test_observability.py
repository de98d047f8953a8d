"""The collector's structured log line and metrics name rejected events' error paths and types, never
their values."""

import json
from typing import Any

import pytest
from support.adversarial import NOW
from ttrelay.collect import CollectOutcome
from ttrelay.consent.model import ConsentDecision
from ttrelay.event_judgement import judge_events
from ttrelay.observability import REJECTION_DIMENSION, REJECTION_METRIC, report_collected, report_rejected
from ttrelay.rejection import CollectRejected
from ttrelay.request_limits import EventTimeWindow

SECRET = "jane.private@example.com"


def printed(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def error_counts(lines: list[dict[str, Any]]) -> dict[str, int]:
    """{error type: count} from the EMF blobs of the rejection metric."""
    return {
        line[REJECTION_DIMENSION]: sum(line[REJECTION_METRIC])
        for line in lines
        if REJECTION_METRIC in line and REJECTION_DIMENSION in line
    }


def test_a_partly_rejected_request_logs_paths_and_counts_errors_by_type(capsys, caplog) -> None:
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
    (log,) = [record.__dict__ for record in caplog.records if record.getMessage() == "collected"]
    assert SECRET not in json.dumps([lines, log["rejected_paths"], log["warning_paths"]])
    assert log["rejected"] == 3
    assert log["rejected_paths"] == ["events.1.event", "events.2.event_time", "events.3.event_time"]
    assert log["warning_paths"] == ["events.0.properties.currency"]
    assert error_counts(lines) == {
        "string_pattern_mismatch": 1,
        "greater_than_equal": 1,
        "event_time_window": 1,
    }


def test_a_400_logs_its_error_paths_and_counts_them_by_type(capsys, caplog) -> None:
    errors = [{"loc": "events.0.event", "type": "string_too_short", "msg": "m"}, {"msg": "no loc"}]
    capsys.readouterr()
    report_rejected(CollectRejected(400, "invalid_request", errors))
    lines = printed(capsys)
    (log,) = [record.__dict__ for record in caplog.records if record.getMessage() == "rejected"]
    assert log["error_paths"] == ["events.0.event"]
    assert error_counts(lines) == {"string_too_short": 1, "invalid_request": 1}
