"""The per-pixel EMF blobs are written by ttrelay.observability.pixel_metrics itself (Powertools'
EphemeralMetrics cost most of a request's budget): each document must stay the one Powertools writes,
which CloudWatch, the alarms, the dashboard and the local chaos harness read."""

import json

import pytest
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from ttrelay.observability.pixel_metrics import MAX_EMF_VALUES, count_breakdown, pixel_blob


def without_timestamp(document: dict) -> dict:
    document["_aws"].pop("Timestamp")
    return document


def printed(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    return [without_timestamp(json.loads(line)) for line in capsys.readouterr().out.splitlines()]


@pytest.fixture(autouse=True)
def service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "ttrelay-tests")
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)


def test_a_pixel_blob_is_the_document_powertools_writes(capsys: pytest.CaptureFixture[str]) -> None:
    with pixel_blob("CPIXEL", "ttrelay") as blob:
        blob.add_metric("EventsAccepted", MetricUnit.Count, 2)
        blob.add_metric("EventsApiLatency", MetricUnit.Milliseconds, 12.5)
        blob.add_metric("EventsApiLatency", MetricUnit.Milliseconds, 30)
    ours = printed(capsys)

    reference = EphemeralMetrics(namespace="ttrelay")
    reference.add_dimension("pixel", "CPIXEL")
    reference.add_dimensions(service="ttrelay-tests")
    reference.add_metric("EventsAccepted", MetricUnit.Count, 2)
    reference.add_metric("EventsApiLatency", MetricUnit.Milliseconds, 12.5)
    reference.add_metric("EventsApiLatency", MetricUnit.Milliseconds, 30)
    reference.flush_metrics()
    assert ours == printed(capsys)
    assert ours[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["pixel", "service"], ["service"]]


def test_a_breakdown_is_the_document_powertools_writes(capsys: pytest.CaptureFixture[str]) -> None:
    count_breakdown("EventsDroppedByReason", 3, "other", "ttrelay", regime="opt_in", reason="deny:tcf")
    ours = printed(capsys)

    reference = EphemeralMetrics(namespace="ttrelay")
    for name, value in (("pixel", "other"), ("regime", "opt_in"), ("reason", "deny:tcf")):
        reference.add_dimension(name, value)
    reference.add_metric("EventsDroppedByReason", MetricUnit.Count, 3)
    reference.flush_metrics()
    assert ours == printed(capsys)


def test_an_empty_blob_writes_nothing_and_a_full_metric_starts_a_new_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pixel_blob("CPIXEL", "ttrelay"):
        pass
    assert capsys.readouterr().out == ""
    with pixel_blob("CPIXEL", "ttrelay") as blob:
        for latency in range(MAX_EMF_VALUES + 1):
            blob.add_metric("EventsApiLatency", MetricUnit.Milliseconds, latency)
    documents = printed(capsys)
    assert [len(document["EventsApiLatency"]) for document in documents] == [MAX_EMF_VALUES, 1]


def test_disabled_metrics_write_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    with pixel_blob("CPIXEL", "ttrelay") as blob:
        blob.add_metric("EventsAccepted", MetricUnit.Count, 1)
    count_breakdown("EventErrors", 1, "other", "ttrelay", error_type="missing")
    assert capsys.readouterr().out == ""
