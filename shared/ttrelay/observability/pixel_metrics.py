"""EMF blobs that carry a `pixel` dimension, beside the shared Metrics (ttrelay.observability.telemetry).

Why separate blobs: an EMF blob has one set of dimension values for all its metrics, and a forward batch
spans several pixels, so each pixel (and each breakdown, e.g. a drop reason) gets a blob of its own
(Powertools' EphemeralMetrics: same EMF writer, no shared state). The main per-pixel blob also declares a
second dimension set, [service] alone: CloudWatch then keeps a service-wide total of the same value, which
the alarms use, without the value being written twice (EMF spec: "Dimensions" is an array of sets).

The blobs are written here rather than through Powertools' EphemeralMetrics: the document is the one it
writes (same keys, values as lists of floats, POWERTOOLS_METRICS_DISABLED honoured), but setting up a
provider, validating each metric and serialising cost about 90 µs per collect request, most of what a
one-event request may spend outside the use case.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection, Mapping
from functools import cache
from types import TracebackType

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from pydantic_core import to_json

from ttrelay.config import CommonSettings

PIXEL_DIMENSION = "pixel"
# Every pixel outside the allowlist, and messages whose pixel is unknown, share this one value.
OTHER_PIXEL = "other"
# EMF's limit: a document holds at most 100 metrics, and a metric at most 100 values.
MAX_EMF_VALUES = 100
_COUNT = MetricUnit.Count.value


# Documents are serialised by pydantic-core (Rust), which the collector already runs for the queued
# message and its answer: same JSON values as json.dumps (non-ASCII written as UTF-8, not escaped), and in
# a collect request, after the use case, a third of the time of the standard library's encoder.
def _json_line(document: Mapping[str, object]) -> str:
    return to_json(document).decode()


class Blob:
    """One EMF document's metrics under one set of dimension values (and perhaps a second dimension set)."""

    __slots__ = ("_dimension_sets", "_dimensions", "_namespace", "metric_set")

    def __init__(self, namespace: str | None, dimensions: Mapping[str, str], totals: bool = False) -> None:
        self._namespace = namespace
        service = _service()
        self._dimensions = {**dimensions, "service": service} if service else dict(dimensions)
        # [service] alone as a second set: the service-wide total (module docstring).
        self._dimension_sets = [list(self._dimensions)]
        if totals and service:
            self._dimension_sets.append(["service"])
        self.metric_set: dict[str, tuple[str, list[float]]] = {}

    def add_metric(self, name: str, unit: MetricUnit, value: float) -> None:
        _, values = self.metric_set.setdefault(name, (unit.value, []))
        values.append(float(value))
        if len(values) == MAX_EMF_VALUES or len(self.metric_set) == MAX_EMF_VALUES:
            self.flush_metrics()

    def add_counts(self, counts: Mapping[str, int]) -> None:
        """Counts above zero only: a sum over no datapoints is zero in CloudWatch too (alarms treat missing
        data as not breaching, the dashboard FILLs gaps), and every metric costs log bytes per request."""
        if self.metric_set or len(counts) >= MAX_EMF_VALUES:
            for name, count in counts.items():
                if count:
                    self.add_metric(name, MetricUnit.Count, count)
            return
        # An empty blob and fewer counts than EMF's limit: what add_metric would store, at once.
        self.metric_set = {name: (_COUNT, [float(count)]) for name, count in counts.items() if count}

    def document(self, properties: Mapping[str, object] | None = None) -> dict[str, object]:
        """The EMF document; `properties` (log fields, not metrics) go between the dimensions and the
        metrics, where Powertools puts its metadata."""
        if self._namespace is None:
            raise ValueError("EMF metrics need a namespace (POWERTOOLS_METRICS_NAMESPACE)")
        definitions = [{"Name": name, "Unit": unit} for name, (unit, _) in self.metric_set.items()]
        return {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {"Namespace": self._namespace, "Dimensions": self._dimension_sets, "Metrics": definitions}
                ],
            },
            **self._dimensions,
            **(properties or {}),
            **{name: values for name, (_, values) in self.metric_set.items()},
        }

    def flush_metrics(self, properties: Mapping[str, object] | None = None) -> None:
        """Writes the document, with `properties` as log fields of the same line (write_counts); the
        properties alone when there is no metric to write."""
        if self.metric_set and not metrics_disabled():
            print(_json_line(self.document(properties)))
        elif properties:
            print(_json_line(properties))
        self.metric_set = {}

    def __enter__(self) -> Blob:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:  # a failed block writes nothing, as a generator-based context manager would not
            self.flush_metrics()


# Both read once per execution environment, as configured_pixels() reads PIXEL_CODES: Lambda sets a
# function's environment before its code starts and never changes it. Reading os.environ on every request
# cost a collect request ~13 µs (two of the three names are unset, and a miss raises KeyError inside
# os.environ.get). Tests that change these variables clear both caches (tests/conftest.py).
@cache
def metrics_disabled() -> bool:
    """Powertools' is_metrics_disabled(), without its parsing when neither of its variables is set (as in
    the deployed functions): then metrics are on."""
    environ = os.environ
    if environ.get("POWERTOOLS_DEV") is None and environ.get("POWERTOOLS_METRICS_DISABLED") is None:
        return False
    return is_metrics_disabled()


@cache
def _service() -> str | None:
    """The `service` dimension, as Powertools reads it (POWERTOOLS_SERVICE_NAME)."""
    return os.environ.get("POWERTOOLS_SERVICE_NAME") or None


@cache
def configured_pixels() -> tuple[str, ...]:
    """The PIXEL_CODES allowlist both functions are deployed with (read once)."""
    return CommonSettings.from_environment().pixel_codes


def metric_pixel(pixel: str | None, known: Collection[str]) -> str:
    # Each distinct dimension value is a billed custom metric: values come from our allowlist only, so a
    # producer that enqueues made-up pixel codes cannot mint new metrics.
    return pixel if pixel is not None and pixel in known else OTHER_PIXEL


def pixel_blob(pixel: str, namespace: str | None) -> Blob:
    """One blob whose metrics land under [service, pixel] and, as a service-wide total, [service]; as a
    context manager, it is written when the block ends (and not when the block fails)."""
    return Blob(namespace, {PIXEL_DIMENSION: pixel}, totals=True)


# The document's keys besides its metrics: write_counts refuses a log property named like one (or like a
# metric), which would take its place in the document.
_DOCUMENT_KEYS = frozenset({"_aws", PIXEL_DIMENSION, "service"})


def write_counts(
    pixel: str,
    namespace: str | None,
    counts: Mapping[str, int],
    properties: Mapping[str, object] | None = None,
) -> None:
    """A request's counts above zero in one pixel_blob document, written at once.

    `properties` are log fields carried by the same line: CloudWatch keeps an EMF document's keys that
    are neither metrics nor dimensions as fields of the log event, searchable in Logs Insights (what
    Powertools' add_metadata writes). Without metrics to write (none above zero, or metrics disabled) the
    properties make a line of their own."""
    if properties and not (_DOCUMENT_KEYS.isdisjoint(properties) and counts.keys().isdisjoint(properties)):
        raise ValueError("a log property may not be named like a metric or a key of the EMF document")
    blob = pixel_blob(pixel, namespace)
    blob.add_counts(counts)
    blob.flush_metrics(properties)


def count_breakdown(metric: str, count: int, pixel: str, namespace: str | None, **dimensions: str) -> None:
    """One count under [service, pixel, *dimensions]; dimension values must come from a bounded set."""
    if not count:
        return
    blob = Blob(namespace, {PIXEL_DIMENSION: pixel, **dimensions})
    blob.add_metric(metric, MetricUnit.Count, count)
    blob.flush_metrics()
