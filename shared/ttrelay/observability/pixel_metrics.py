"""EMF blobs that carry a `pixel` dimension, beside the shared Metrics (ttrelay.observability.telemetry).

Why separate blobs: an EMF blob has one set of dimension values for all its metrics, and a forward batch
spans several pixels, so each pixel (and each breakdown, e.g. a drop reason) gets a blob of its own
(Powertools' EphemeralMetrics: same EMF writer, no shared state). The main per-pixel blob also declares a
second dimension set, [service] alone: CloudWatch then keeps a service-wide total of the same value, which
the alarms use, without the value being written twice (EMF spec: "Dimensions" is an array of sets).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from functools import cache

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from ttrelay.config import CommonSettings

PIXEL_DIMENSION = "pixel"
# Every pixel outside the allowlist, and messages whose pixel is unknown, share this one value.
OTHER_PIXEL = "other"


@cache
def configured_pixels() -> tuple[str, ...]:
    """The PIXEL_CODES allowlist both functions are deployed with (read once)."""
    return CommonSettings().pixel_codes


def metric_pixel(pixel: str | None, known: Collection[str]) -> str:
    # Each distinct dimension value is a billed custom metric: values come from our allowlist only, so a
    # producer that enqueues made-up pixel codes cannot mint new metrics.
    return pixel if pixel is not None and pixel in known else OTHER_PIXEL


def add_counts(blob: EphemeralMetrics, counts: Mapping[str, int]) -> None:
    """Counts above zero only: a sum over no datapoints is zero in CloudWatch too (alarms treat missing
    data as not breaching, the dashboard FILLs gaps), and every metric costs log bytes per request."""
    for name, count in counts.items():
        if count:
            blob.add_metric(name, MetricUnit.Count, count)


@contextmanager
def pixel_blob(pixel: str, namespace: str | None) -> Iterator[EphemeralMetrics]:
    """One blob whose metrics land under [service, pixel] and, as a service-wide total, [service]."""
    blob = EphemeralMetrics(namespace=namespace)
    blob.add_dimension(PIXEL_DIMENSION, pixel)
    if blob.service:
        blob.add_dimensions(service=blob.service)
    yield blob
    if blob.metric_set:
        blob.flush_metrics()


def count_breakdown(metric: str, count: int, pixel: str, namespace: str | None, **dimensions: str) -> None:
    """One count under [service, pixel, *dimensions]; dimension values must come from a bounded set."""
    if not count:
        return
    blob = EphemeralMetrics(namespace=namespace)
    blob.add_dimension(PIXEL_DIMENSION, pixel)
    for name, value in dimensions.items():
        blob.add_dimension(name, value)
    blob.add_metric(metric, MetricUnit.Count, count)
    blob.flush_metrics()
