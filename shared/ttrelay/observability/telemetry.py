"""The one Logger and Metrics of a function (service and namespace come from POWERTOOLS_* variables),
and what each use case reports through them. Nothing here ever sees raw identifiers or tokens.

Metrics (docs/operations.md lists them all): counts of a request or a batch go into per-pixel blobs
(ttrelay.observability.pixel_metrics) under [service, pixel] and, for the alarms, [service]; breakdowns
(drop reason, error type, DLQ reason, Events API answer) under [service, pixel, <breakdown>]. What has no
pixel goes under [service]: RequestsRejected (written at once), DedupWrites (the shared Metrics). Counts
of zero are left out.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import Metrics, MetricUnit

from ttrelay.consent.model import TCF_VENDOR_UNCONFIGURED
from ttrelay.observability.match_coverage import match_key_coverage
from ttrelay.observability.pixel_metrics import (
    OTHER_PIXEL,
    Blob,
    configured_pixels,
    count_breakdown,
    metric_pixel,
    pixel_blob,
    write_counts,
)
from ttrelay.observability.status import TCF_VENDOR_UNCONFIGURED_METRIC

if TYPE_CHECKING:
    from ttrelay.collect.event_judgement import Judgement, Problem
    from ttrelay.collect.rejection import CollectRejected
    from ttrelay.collect.use_case import CollectOutcome
    from ttrelay.forward.use_case import ForwardReport
    from ttrelay.observability.pixel_tally import PixelTally

# Whatever can start a JSON text, leading whitespace included (json.loads also reads NaN and Infinity).
_MAY_START_JSON = frozenset(' \t\n\r"{[-0123456789ntfNI')


def _message_from_json(message: str) -> Any:
    """The formatter's json_deserializer: Powertools logs a message that is a JSON text as the value it
    holds, and tries json.loads on every message to find out. Ours are words (`collected`), which cannot
    start one: returned as they are, as the formatter does when json.loads fails, without the cost of
    raising JSONDecodeError on every line (the empty message too: [:1] is "", not in the set)."""
    if message[:1] not in _MAY_START_JSON:
        return message
    return json.loads(message)


# Powertools types json_deserializer oddly (its argument as any JSON value, its result as str); it only
# ever passes the message, a str.
_JsonDeserializer = Callable[[dict[Any, Any] | str | bool | int | float], str]

# RFC 3339 timestamps: Lambda (JSON log format) reads a line's level only when its timestamp is one.
logger = Logger(use_rfc3339=True, json_deserializer=cast("_JsonDeserializer", _message_from_json))
# "location" (module:line of the log call) is the same on every line of a given kind, and "service" is the
# log group's own name: neither is worth its bytes on every line.
logger.remove_keys(["location", "service"])


def _reuse_one_json_encoder() -> None:
    """The formatter serialises each line with json.dumps and its own options, which builds a new
    JSONEncoder for every line: one encoder with the same options (default, indent) does the same."""
    formatter = logger.registered_formatter
    if isinstance(formatter, LambdaPowertoolsFormatter):
        formatter.json_serializer = json.JSONEncoder(
            default=formatter.json_default,
            separators=(",", ":"),
            indent=formatter.json_indent,
            ensure_ascii=False,
        ).encode


def _honour_a_stricter_log_level() -> None:
    """In Lambda, Powertools follows Lambda's application log level (AWS_LAMBDA_LOG_LEVEL), which the
    template keeps at INFO at most so that EMF documents (no "level" key: INFO to Lambda) are never
    dropped. LOG_LEVEL (the LogLevel parameter) may still ask for fewer lines: WARNING and above."""
    asked = logging.getLevelName(os.environ.get("LOG_LEVEL", "INFO").upper())
    if isinstance(asked, int) and asked > logger.log_level:
        logging.getLogger(logger.name).setLevel(asked)


# Libraries whose DEBUG lines carry what must never reach a log: botocore writes whole response bodies
# (GetSecretValue's access tokens, cookie keys and origin secret; SendMessage's event bodies), urllib3 and
# httpcore/httpx the traffic, Powertools' own modules the exception text of a failed record. Lambda's
# runtime puts its handler on the root logger at the application log level, so at LogLevel=DEBUG they
# would all write there: they stay at WARNING whatever the level (docs/operations.md, "Log levels").
QUIET_LIBRARY_LOGGERS = (
    "botocore",
    "boto3",
    "s3transfer",
    "urllib3",
    "httpx",
    "httpcore",
    "aws_lambda_powertools",
)


def _quiet_library_loggers() -> None:
    for name in QUIET_LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


_reuse_one_json_encoder()
_honour_a_stricter_log_level()
_quiet_library_loggers()
metrics = Metrics()
# The standard library's logger behind Powertools' (level checks without Powertools' attribute proxy).
_stdlib_logger = logging.getLogger(logger.name)


# The one key the relay adds to every line of an invocation.
REQUEST_ID_KEY = "function_request_id"


def log_invocation(request_id: str) -> None:
    """What the log lines keep of the Lambda context: the request id (CloudWatch Logs Insights joins on
    it, and so does the local inspector). Powertools' inject_lambda_context would add the function's
    name, ARN, memory size and cold-start flag to every line, which the log group already says."""
    logger.append_keys(**{REQUEST_ID_KEY: request_id})


# One metric, one breakdown: the error's type (a pydantic error type or ours, e.g. event_time_window),
# never a value or a path, so its cardinality stays bounded by the code, not by what senders send.
REJECTION_METRIC = "EventErrors"
REJECTION_DIMENSION = "error_type"
DROP_METRIC = "EventsDroppedByReason"
PARKED_METRIC = "EventsParkedByReason"
ANSWER_METRIC = "EventsApiAnswers"
LATENCY_METRIC = "EventsApiLatency"
# Accepted events carrying each match key (ttrelay.observability.match_coverage); the dashboard divides
# by EventsAccepted.
MATCH_KEY_METRICS = {
    "ttclid": "EventsWithTtclid",
    "ttp": "EventsWithTtp",
    "email": "EventsWithEmail",
    "phone": "EventsWithPhone",
    "external_id": "EventsWithExternalId",
    "ip_user_agent": "EventsWithIpAndUserAgent",
}


def drop_reason_kind(reason: str) -> str:
    """`deny:tcf:purpose_7` -> `deny:tcf`: the verdict and its source, never the detail after them, so
    the metric's values are bounded by the consent code (ttrelay.consent.decide), not by what CMPs send."""
    return ":".join(reason.split(":", 2)[:2])


def receipt_log_form(receipt: Mapping[str, object]) -> dict[str, object]:
    """The consent receipt as the log line keeps it: every answer, without what another field already
    says — `limited_data_use` (true exactly when `action` is `limited`), `regimes_considered` when it is
    just `regime`, `signal_sources` when every signal came with the request (`signals_present` says
    which), `decided_at` (the line's own timestamp is that instant) — and without empty fields. The
    queued message keeps the whole receipt; ttrelay_dev.local.inspector puts them back for its feed."""
    kept = without_empty(receipt)
    kept.pop("limited_data_use", None)
    kept.pop("decided_at", None)
    if kept.get("regimes_considered") == [kept.get("regime")]:
        del kept["regimes_considered"]
    if kept.get("signal_sources") == {"request": kept.get("signals_present")}:
        del kept["signal_sources"]
    return kept


# Values of these exact types are never null, an empty list or an empty object (nor equal to one), and
# never a Mapping: kept as they are, without the Mapping check (an ABC's, slow) that other values get.
_NEVER_EMPTY = frozenset({str, int, float, bool})


def without_empty(record: Mapping[str, object]) -> dict[str, object]:
    """The record without null, empty-list and empty-object fields, nested too: an absent field reads the
    same in CloudWatch Logs Insights, and every byte of the one line per request is billed."""
    kept: dict[str, object] = {}
    for key, value in record.items():
        kind = type(value)
        if kind in _NEVER_EMPTY or (kind is list and value):
            kept[key] = value
            continue
        if value is None or kind is list:  # an empty list
            continue
        compact = without_empty(value) if isinstance(value, (dict, Mapping)) else value  # dict: no ABC check
        if compact not in (None, [], {}):
            kept[key] = compact
    return kept


def report_collected(outcome: CollectOutcome, known_pixels: Collection[str] | None = None) -> None:
    """One line per request: its counts (EMF) and, as log fields of the same line, `message: collected`
    with its consent receipt (regime, action, signals; no PII), the error paths of rejected events and the
    warnings' paths, about the request or one event (paths only, never the values; a sender's own key is
    `<key>`, ttrelay.field_paths). One line rather than a log line beside the EMF document: writing a
    record through the logging machinery cost a one-event request a sixth of its time (bench/README.md).
    The fields follow the logger's level: a stricter LOG_LEVEL leaves the counts alone on the line."""
    judgement = outcome.judgement
    rejected = [problem for event in judgement.rejected for problem in event.errors]
    line = _collected_fields(outcome, rejected) if _stdlib_logger.isEnabledFor(logging.INFO) else None
    visitor = outcome.visitor
    origin_unverified = visitor is not None and visitor.origin_unverified
    if visitor is not None and origin_unverified:
        # CloudFront's marks without the origin secret: a rotated or renamed secret, or a forgery.
        # The location was treated as unknown (strictest rules); header names only, never values.
        logger.warning("origin_verification_failed", extra={"cloudfront_headers": visitor.cloudfront_marks})
    pixel = metric_pixel(outcome.pixel, configured_pixels() if known_pixels is None else known_pixels)
    coverage = match_key_coverage(outcome.message)
    write_counts(
        pixel,
        metrics.namespace,
        {
            "RequestsCollected": 1,
            "EventsReceived": len(judgement.usable) + len(judgement.rejected),
            "EventsAccepted": outcome.accepted,
            "EventsDroppedByConsent": outcome.dropped,
            "EventsRejected": len(judgement.rejected),
            "OriginVerificationFailed": int(origin_unverified),
            # Counted whatever the decision: the site's TCF answers go unused until TikTokVendorId is set.
            TCF_VENDOR_UNCONFIGURED_METRIC: int(_tcf_vendor_unconfigured(outcome.receipt)),
            **{MATCH_KEY_METRICS[key]: count for key, count in coverage.items()},
        },
        line,
    )
    if outcome.dropped:  # count_breakdown leaves out a zero count
        decision = outcome.decision
        count_breakdown(
            DROP_METRIC,
            outcome.dropped,
            pixel,
            metrics.namespace,
            regime=decision.regime,
            reason=drop_reason_kind(decision.reason),
        )
    if rejected:
        _count_errors((problem.type for problem in rejected), pixel)


def _collected_fields(outcome: CollectOutcome, rejected: list[Problem]) -> dict[str, object]:
    """The `collected` fields, as the logger would write them: its request id, none of its null keys."""
    judgement = outcome.judgement
    fields: dict[str, object] = {"message": "collected"}
    if (request_id := logger.get_current_keys().get(REQUEST_ID_KEY)) is not None:
        fields[REQUEST_ID_KEY] = request_id
    fields |= {"consent_receipt": receipt_log_form(outcome.receipt), "accepted": outcome.accepted}
    if outcome.dropped:
        fields["dropped"] = outcome.dropped
    if sources := _usable_events_per_source(judgement):
        fields["sources"] = sources
    warned = [*judgement.warnings, *(problem for event in judgement.usable for problem in event.warnings)]
    if rejected or warned:  # left out when empty: CloudWatch Logs bills every byte
        fields |= {
            "rejected": len(judgement.rejected),
            "rejected_paths": [problem.loc for problem in rejected],
            "warning_paths": [problem.loc for problem in warned],
        }
    return fields


def _usable_events_per_source(judgement: Judgement) -> dict[str, int]:
    """{source: count} of the usable events (accepted or dropped by consent) that said where the page got
    them; a plain dict, filled only for events that carry a source: this runs on every request."""
    counts: dict[str, int] = {}
    for usable in judgement.usable:
        if (source := usable.event.source) is not None:
            counts[source] = counts.get(source, 0) + 1
    return counts


def _tcf_vendor_unconfigured(receipt: Mapping[str, object]) -> bool:
    undecided = receipt.get("undecided")
    return isinstance(undecided, (list, tuple)) and TCF_VENDOR_UNCONFIGURED in undecided


def report_rejected(error: CollectRejected) -> None:
    paths = [str(detail["loc"]) for detail in error.errors if "loc" in detail]
    logger.info("rejected", extra={"status": error.status, "error": error.error, "error_paths": paths})
    # Written at once under [service], as the shared Metrics would write it at the end of the invocation:
    # the collector then has nothing to flush, and its handler no log_metrics wrapper (which also warned
    # "No application metrics to publish" on every first request of an execution environment).
    with Blob(metrics.namespace, {}) as totals:
        totals.add_metric("RequestsRejected", MetricUnit.Count, 1)
    # A refused request never got as far as a trusted pixel: its errors count under "other".
    _count_errors((_error_type(detail, error.error) for detail in error.errors), OTHER_PIXEL)


def _error_type(detail: Mapping[str, object], fallback: str) -> str:
    kind = detail.get("type")
    return kind if isinstance(kind, str) else fallback


def _count_errors(types: Iterable[str], pixel: str) -> None:
    for kind, count in sorted(Counter(types).items()):
        count_breakdown(REJECTION_METRIC, count, pixel, metrics.namespace, **{REJECTION_DIMENSION: kind})


def report_forwarded(report: ForwardReport, known_pixels: Collection[str] | None = None) -> None:
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
    known = configured_pixels() if known_pixels is None else known_pixels
    tallies: dict[str, list[PixelTally]] = {}
    for code, tally in report.per_pixel.items():
        tallies.setdefault(metric_pixel(code, known), []).append(tally)
    for pixel, group in tallies.items():
        _report_pixel_delivery(pixel, group)
    # Not per pixel: one conditional write can claim events of several pixels. The local chaos harness
    # sums this metric from the functions' output (ttrelay_dev.local.chaos).
    metrics.add_metric("DedupWrites", MetricUnit.Count, report.dedup_writes)


def _report_pixel_delivery(pixel: str, tallies: list[PixelTally]) -> None:
    """One pixel's blob; several tallies when unlisted pixel codes share the "other" bucket."""
    answers = [answer for tally in tallies for answer in tally.answers]
    parked = sum((tally.parked_by_reason for tally in tallies), Counter[str]())
    with pixel_blob(pixel, metrics.namespace) as blob:
        blob.add_counts(
            {
                "EventsDelivered": sum(tally.delivered for tally in tallies),
                "EventsDeduplicated": sum(tally.duplicates for tally in tallies),
                "EventsParked": parked.total(),
                "EventsApiRequests": len(answers),
                # A token, pixel or URL problem: someone has to fix the configuration (alarmed on).
                "EventsApiConfigurationError": sum(answer.outcome.alert for answer in answers),
            },
        )
        for answer in answers:
            blob.add_metric(LATENCY_METRIC, MetricUnit.Milliseconds, round(answer.latency_ms, 1))
    for reason, count in sorted(parked.items()):
        count_breakdown(PARKED_METRIC, count, pixel, metrics.namespace, reason=reason)
    # The reason names the answer without its message: `code:40100`, `http:503`, `transport:timeout`.
    for answer_kind, count in sorted(Counter(answer.outcome.reason for answer in answers).items()):
        count_breakdown(ANSWER_METRIC, count, pixel, metrics.namespace, answer=answer_kind)
