"""The one Logger and Metrics of a function (service and namespace come from POWERTOOLS_* variables),
and what each use case reports through them. Nothing here ever sees raw identifiers or tokens."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics, MetricUnit, single_metric

if TYPE_CHECKING:
    from ttrelay.collect import CollectOutcome
    from ttrelay.forward import ForwardReport
    from ttrelay.rejection import CollectRejected

logger = Logger()
metrics = Metrics()


# One metric, one dimension: the error's type (a pydantic error type or ours, e.g. event_time_window),
# never a value or a path, so its cardinality stays bounded by the code, not by what senders send.
REJECTION_METRIC = "EventErrors"
REJECTION_DIMENSION = "error_type"


def report_collected(outcome: CollectOutcome) -> None:
    """One structured line per request with its consent receipt (regime, action, signals; no PII), and
    the error paths of rejected events and left-out fields (paths only, never the values)."""
    judgement = outcome.judgement
    rejected = [problem for event in judgement.rejected for problem in event.errors]
    warned = [problem for event in judgement.usable for problem in event.warnings]
    logger.info(
        "collected",
        extra={
            "consent_receipt": outcome.receipt,
            "accepted": outcome.accepted,
            "dropped": outcome.dropped,
            "rejected": len(judgement.rejected),
            "rejected_paths": [problem.loc for problem in rejected],
            "warning_paths": [problem.loc for problem in warned],
        },
    )
    visitor = outcome.visitor
    if visitor is not None and visitor.origin_unverified:
        # CloudFront's marks without the origin secret: a rotated or renamed secret, or a forgery.
        # The location was treated as unknown (strictest rules); header names only, never values.
        logger.warning("origin_verification_failed", extra={"cloudfront_headers": visitor.cloudfront_marks})
        metrics.add_metric("OriginVerificationFailed", MetricUnit.Count, 1)
    metrics.add_metric("EventsAccepted", MetricUnit.Count, outcome.accepted)
    metrics.add_metric("EventsDroppedByConsent", MetricUnit.Count, outcome.dropped)
    metrics.add_metric("EventsRejected", MetricUnit.Count, len(judgement.rejected))
    _count_errors(problem.type for problem in rejected)


def report_rejected(error: CollectRejected) -> None:
    paths = [str(detail["loc"]) for detail in error.errors if "loc" in detail]
    logger.info("rejected", extra={"status": error.status, "error": error.error, "error_paths": paths})
    metrics.add_metric("RequestsRejected", MetricUnit.Count, 1)
    _count_errors(_error_type(detail, error.error) for detail in error.errors)


def _error_type(detail: Mapping[str, object], fallback: str) -> str:
    kind = detail.get("type")
    return kind if isinstance(kind, str) else fallback


def _count_errors(types: Iterable[str]) -> None:
    for kind, count in sorted(Counter(types).items()):
        with single_metric(REJECTION_METRIC, MetricUnit.Count, count, namespace=metrics.namespace) as metric:
            metric.add_dimension(REJECTION_DIMENSION, kind)


def report_forwarded(report: ForwardReport) -> None:
    for outcome in report.outcomes:
        log = logger.debug if outcome.verdict == "success" else logger.warning
        log(
            "events_api_response",
            extra={
                "verdict": outcome.verdict,
                "reason": outcome.reason,
                "request_id": outcome.request_id,
                "tiktok_message": outcome.message,
            },
        )
        if outcome.alert:  # a token, pixel or URL problem: someone has to fix the configuration
            metrics.add_metric("EventsApiConfigurationError", MetricUnit.Count, 1)
    metrics.add_metric("EventsDelivered", MetricUnit.Count, report.delivered)
    metrics.add_metric("EventsDeduplicated", MetricUnit.Count, report.duplicates)
    metrics.add_metric("EventsParked", MetricUnit.Count, report.parked)
    metrics.add_metric("EventsApiRequests", MetricUnit.Count, report.requests)
    metrics.add_metric("DedupWrites", MetricUnit.Count, report.dedup_writes)
