"""The per-pixel EMF blobs are written by ttrelay.observability.pixel_metrics itself (Powertools'
EphemeralMetrics cost most of a request's budget): each document must stay the one Powertools writes,
which CloudWatch, the alarms, the dashboard and the local chaos harness read."""

import contextlib
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.metrics.exceptions import SchemaValidationError
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from hypothesis import given, settings
from hypothesis import strategies as st
from support import metrics_environment
from ttrelay.observability.pixel_metrics import (
    MAX_EMF_VALUES,
    Blob,
    count_breakdown,
    pixel_blob,
    write_counts,
)


def without_timestamp(document: dict) -> dict:
    document["_aws"].pop("Timestamp")
    return document


def printed(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    return [without_timestamp(document) for document in printed_lines(capsys)]


def printed_lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    # Every line must be JSON and end with "\n", the only line end, as Lambda reads them (JSON may hold
    # U+2028, which splitlines() would split).
    *lines, rest = capsys.readouterr().out.split("\n")
    assert rest == ""
    return [json.loads(line) for line in lines]


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


def test_a_failed_block_writes_no_blob(capsys: pytest.CaptureFixture[str]) -> None:
    def fails() -> None:
        with pixel_blob("CPIXEL", "ttrelay") as blob:
            blob.add_metric("EventsAccepted", MetricUnit.Count, 1)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fails()
    assert capsys.readouterr().out == ""


class Recording(Blob):
    """A blob that keeps its documents instead of writing them."""

    __slots__ = ("written",)

    def __init__(self) -> None:
        super().__init__("ttrelay", {"pixel": "P"}, totals=True)
        self.written: list[dict[str, Any]] = []

    def flush_metrics(self) -> None:
        if self.metric_set:
            self.written.append(without_timestamp(self.document()))
        self.metric_set = {}


count_sets = st.dictionaries(st.sampled_from(["A", "B", "pixel", "service"]), st.integers(-2, 10**20))


@settings(max_examples=300)
@given(
    earlier=st.lists(st.tuples(st.sampled_from(["A", "C"]), st.floats(allow_nan=False)), max_size=3),
    counts=st.one_of(count_sets, st.just({f"M{index}": 1 for index in range(MAX_EMF_VALUES + 1)})),
)
def test_counts_added_at_once_are_the_metrics_added_one_by_one(
    earlier: list[tuple[str, float]], counts: dict[str, int]
) -> None:
    """Blob.add_counts fills an empty blob at once: the metrics, and the documents, of add_metric."""
    ours, plain = Recording(), Recording()
    for blob in (ours, plain):
        for metric, value in earlier:
            blob.add_metric(metric, MetricUnit.Milliseconds, value)
    ours.add_counts(counts)
    for name, count in counts.items():
        if count:
            plain.add_metric(name, MetricUnit.Count, count)
    assert list(ours.metric_set.items()) == list(plain.metric_set.items())
    ours.flush_metrics()
    plain.flush_metrics()
    assert json.dumps(ours.written) == json.dumps(plain.written)


def written_by(write: Callable[[], None]) -> list[dict[str, Any]] | type[BaseException]:
    """The documents `write` prints (parsed, without their timestamps), or the type of what it raises."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            write()
    except (ValueError, OverflowError, SchemaValidationError) as error:
        return type(error)
    # Lines end at "\n" only, as Lambda reads them: JSON may hold U+2028, which splitlines() would split.
    documents = [json.loads(line) for line in out.getvalue().split("\n") if line]
    return [without_timestamp(document) if "_aws" in document else document for document in documents]


def by_powertools(
    pixel: str, namespace: str, counts: dict[str, int], properties: dict[str, Any] | None
) -> list[dict[str, Any]] | type[BaseException]:
    """What Powertools' EphemeralMetrics writes for the counts above zero and the properties as metadata
    (add_dimensions adds [service] as a second dimension set, as ours has); metrics disabled, the
    properties alone."""

    def write() -> None:
        reference = EphemeralMetrics(namespace=namespace)
        reference.add_dimension("pixel", pixel)
        reference.add_dimensions(service="ttrelay-tests")
        for name, count in counts.items():
            if count:
                reference.add_metric(name, MetricUnit.Count, count)
        for key, value in (properties or {}).items():
            reference.add_metadata(key, value)
        if reference.metric_set and not is_metrics_disabled():
            reference.flush_metrics()
        elif properties:
            print(json.dumps(properties))

    return written_by(write)


metric_names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,7}", fullmatch=True).filter(
    lambda name: name not in ("pixel", "service")
)


@settings(max_examples=300)
@given(
    pixel=st.one_of(st.just("CPIXEL"), st.text("AZé", min_size=1, max_size=4)),
    counts=st.dictionaries(metric_names, st.one_of(st.integers(-3, 3), st.integers(0, 10**12)), max_size=6),
    disabled=st.booleans(),
    properties=st.one_of(
        st.none(),
        st.dictionaries(
            st.sampled_from(["message", "consent_receipt", "accepted", "é"]),
            st.one_of(
                st.text(max_size=3), st.integers(-5, 5), st.dictionaries(st.text(max_size=2), st.booleans())
            ),
            max_size=3,
        ),
    ),
)
def test_counts_written_at_once_are_the_document_powertools_writes(
    pixel: str, counts: dict[str, int], disabled: bool, properties: dict[str, Any] | None
) -> None:
    if properties and not counts.keys().isdisjoint(properties):
        return  # refused: test_a_log_property_never_takes_the_place_of_a_metric_or_a_dimension
    with pytest.MonkeyPatch.context() as patch:
        if disabled:
            patch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
        metrics_environment.read_anew()
        ours = written_by(lambda: write_counts(pixel, "ttrelay", counts, properties))
        theirs = by_powertools(pixel, "ttrelay", counts, properties)
    assert ours == theirs


def test_a_count_too_large_for_a_float_raises_whether_or_not_metrics_are_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for disabled in ("false", "true"):
        monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", disabled)
        metrics_environment.read_anew()
        with pytest.raises(OverflowError):
            write_counts("CPIXEL", "ttrelay", {"EventsAccepted": 10**400})


def test_without_a_namespace_counts_are_refused_but_disabled_metrics_need_none(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError, match="namespace"):
        write_counts("CPIXEL", None, {"EventsAccepted": 1})
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics_environment.read_anew()
    write_counts("CPIXEL", None, {"EventsAccepted": 1}, {"message": "collected"})
    assert printed_lines(capsys) == [{"message": "collected"}]


def test_log_properties_are_the_metadata_powertools_writes(capsys: pytest.CaptureFixture[str]) -> None:
    """The collector's `collected` fields ride on its EMF document as Powertools' add_metadata puts them:
    top-level keys between the dimensions and the metrics, which CloudWatch keeps as log fields."""
    receipt = {"action": "forward", "note": "é"}
    properties = {"message": "collected", "consent_receipt": receipt, "accepted": 2}
    write_counts("CPIXEL", "ttrelay", {"EventsAccepted": 2, "RequestsCollected": 1}, properties)
    (ours,) = printed(capsys)

    reference = EphemeralMetrics(namespace="ttrelay")
    reference.add_dimension("pixel", "CPIXEL")
    reference.add_dimensions(service="ttrelay-tests")
    reference.add_metric("EventsAccepted", MetricUnit.Count, 2)
    reference.add_metric("RequestsCollected", MetricUnit.Count, 1)
    for key, value in properties.items():
        reference.add_metadata(key, value)
    reference.flush_metrics()
    (theirs,) = printed(capsys)
    ours["_aws"]["CloudWatchMetrics"][0].pop("Dimensions")  # ours adds [service] alone as a second set
    theirs["_aws"]["CloudWatchMetrics"][0].pop("Dimensions")
    assert json.dumps(ours) == json.dumps(theirs)


@pytest.mark.parametrize("name", ["_aws", "pixel", "service", "EventsAccepted"])
def test_a_log_property_never_takes_the_place_of_a_metric_or_a_dimension(name: str) -> None:
    with pytest.raises(ValueError, match="log property"):
        write_counts("CPIXEL", "ttrelay", {"EventsAccepted": 1}, {name: "x"})
