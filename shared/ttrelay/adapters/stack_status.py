"""The live readings behind `ttrelay status`: SQS queue attributes and three CloudWatch metrics.

Each reading that fails (no permission, no such queue, no datapoint yet) becomes None, shown as
"unknown": a status command must still print what it could read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from ttrelay.observability.status import (
    COLLECT_DIMENSIONS,
    CONFIGURATION_ERROR_METRIC,
    FORWARD_DIMENSIONS,
    METRICS_NAMESPACE,
    TCF_VENDOR_UNCONFIGURED_METRIC,
    QueueDepth,
    StatusReadings,
)

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_AWS_ERRORS = (ClientError, BotoCoreError)
# SQS publishes its metrics every minute while a queue is active; look back far enough to find one.
_AGE_LOOKBACK = dt.timedelta(minutes=15)


def read_status(
    outputs: Mapping[str, str],
    sqs: SQSClient,
    cloudwatch: Any | None,
    now: dt.datetime,
    window_minutes: int = 60,
) -> StatusReadings:
    """`cloudwatch` None (the local stack, whose functions publish no metrics) leaves its readings unknown."""
    queue_url, dlq_url = outputs.get("EventsQueueUrl", ""), outputs.get("EventsDLQUrl", "")
    age = errors = unconfigured = None
    window_start = now - dt.timedelta(minutes=window_minutes)
    if cloudwatch is not None:
        age = _latest_maximum(
            cloudwatch, "AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": _name(queue_url)}, now
        )
        errors = _sum(cloudwatch, CONFIGURATION_ERROR_METRIC, FORWARD_DIMENSIONS, window_start, now)
        unconfigured = _sum(cloudwatch, TCF_VENDOR_UNCONFIGURED_METRIC, COLLECT_DIMENSIONS, window_start, now)
    return StatusReadings(
        outputs=outputs,
        queue=queue_depth(sqs, queue_url),
        dlq=queue_depth(sqs, dlq_url),
        oldest_message_age_seconds=age,
        configuration_errors=errors,
        window_minutes=window_minutes,
        tcf_vendor_unconfigured=unconfigured,
    )


def queue_depth(sqs: SQSClient, queue_url: str) -> QueueDepth | None:
    if not queue_url:
        return None
    try:
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
    except _AWS_ERRORS:
        return None
    return QueueDepth(
        visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
    )


def _latest_maximum(
    cloudwatch: Any, namespace: str, metric: str, dimensions: Mapping[str, str], now: dt.datetime
) -> float | None:
    points = _datapoints(cloudwatch, namespace, metric, dimensions, now - _AGE_LOOKBACK, now, 60, "Maximum")
    if not points:
        return None  # no datapoint is not "0 seconds": the queue may be new, idle or unreadable
    return float(max(points, key=lambda point: point["Timestamp"])["Maximum"])


def _sum(
    cloudwatch: Any,
    metric: str,
    dimensions: Mapping[str, str],
    start: dt.datetime,
    end: dt.datetime,
) -> float | None:
    period = max(60, int((end - start).total_seconds()) // 60 * 60)  # one datapoint for the window
    # The relay's own metrics, which Powertools writes under the template's namespace.
    points = _datapoints(cloudwatch, METRICS_NAMESPACE, metric, dimensions, start, end, period, "Sum")
    # The functions add these metrics only when they count something: no datapoint means none happened.
    return None if points is None else float(sum(point["Sum"] for point in points))


def _datapoints(
    cloudwatch: Any,
    namespace: str,
    metric: str,
    dimensions: Mapping[str, str],
    start: dt.datetime,
    end: dt.datetime,
    period: int,
    statistic: str,
) -> list[dict[str, Any]] | None:
    try:
        response = cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName=metric,
            Dimensions=[{"Name": name, "Value": value} for name, value in dimensions.items()],
            StartTime=start,
            EndTime=end,
            Period=period,
            Statistics=[statistic],
        )
    except _AWS_ERRORS:
        return None
    points: list[dict[str, Any]] = response.get("Datapoints", [])
    return points


def _name(queue_url: str) -> str:
    """CloudWatch names SQS queues by name, the last segment of the URL."""
    return queue_url.rstrip("/").rsplit("/", 1)[-1]
