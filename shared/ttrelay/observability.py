"""The one Logger and Metrics of a function (service and namespace come from POWERTOOLS_* variables),
and what each use case reports through them. Nothing here ever sees raw identifiers or tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics, MetricUnit

if TYPE_CHECKING:
    from ttrelay.collect import CollectOutcome
    from ttrelay.forward import ForwardReport
    from ttrelay.rejection import CollectRejected

logger = Logger()
metrics = Metrics()


def report_collected(outcome: CollectOutcome) -> None:
    """One structured line per request with its consent receipt (regime, action, signals; no PII)."""
    logger.info(
        "collected",
        extra={"consent_receipt": outcome.receipt, "accepted": outcome.accepted, "dropped": outcome.dropped},
    )
    visitor = outcome.visitor
    if visitor is not None and visitor.origin_unverified:
        # CloudFront's marks without the origin secret: a rotated or renamed secret, or a forgery.
        # The location was treated as unknown (strictest rules); header names only, never values.
        logger.warning("origin_verification_failed", extra={"cloudfront_headers": visitor.cloudfront_marks})
        metrics.add_metric("OriginVerificationFailed", MetricUnit.Count, 1)
    metrics.add_metric("EventsAccepted", MetricUnit.Count, outcome.accepted)
    metrics.add_metric("EventsDroppedByConsent", MetricUnit.Count, outcome.dropped)


def report_rejected(error: CollectRejected) -> None:
    logger.info("rejected", extra={"status": error.status, "error": error.error})
    metrics.add_metric("RequestsRejected", MetricUnit.Count, 1)


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
