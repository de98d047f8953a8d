"""What `ttrelay status` says about a relay: queue depth and age, dead letters, configuration errors,
and TC strings left unused because no TikTok vendor id is configured.

Pure: it takes readings (made by adapters/stack_status.py from SQS and CloudWatch) and returns a summary,
with a plain-language `attention` list of what an operator should look at. A reading that could not be
made is None and shows as "unknown", never as a reassuring 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

UNKNOWN = "unknown"
# The forwarder's own metrics: Powertools writes them under the template's POWERTOOLS_METRICS_NAMESPACE,
# with the default dimension service=POWERTOOLS_SERVICE_NAME (template.yaml, ForwardFunction).
METRICS_NAMESPACE = "ttrelay"
FORWARD_DIMENSIONS = {"service": "ttrelay-forward"}
COLLECT_DIMENSIONS = {"service": "ttrelay-collect"}
CONFIGURATION_ERROR_METRIC = "EventsApiConfigurationError"
# The collector's count of requests whose TC string could not grant for want of TikTokVendorId.
TCF_VENDOR_UNCONFIGURED_METRIC = "TcfVendorUnconfigured"
# Events normally leave within seconds (batch window 5 s); a quarter of an hour means the forwarder is
# failing or throttled, well before the queue's 4-day retention is at stake.
OLD_MESSAGE_SECONDS = 15 * 60


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """SQS's ApproximateNumberOfMessages, ...NotVisible (being delivered) and ...Delayed."""

    visible: int
    in_flight: int
    delayed: int = 0

    @property
    def total(self) -> int:
        return self.visible + self.in_flight + self.delayed


@dataclass(frozen=True, slots=True)
class StatusReadings:
    outputs: Mapping[str, str]
    queue: QueueDepth | None
    dlq: QueueDepth | None
    oldest_message_age_seconds: float | None  # CloudWatch's ApproximateAgeOfOldestMessage, latest
    configuration_errors: float | None  # EventsApiConfigurationError, summed over the window
    window_minutes: int = 60
    tcf_vendor_unconfigured: float | None = None  # TcfVendorUnconfigured, summed over the window


def summarise(readings: StatusReadings) -> dict[str, object]:
    """The status as JSON-ready data; `attention` is empty when nothing needs a look."""
    queue, dlq = readings.queue, readings.dlq
    age = readings.oldest_message_age_seconds
    if queue is not None and queue.total == 0:
        age = 0  # an empty queue has no oldest message, whatever CloudWatch last saw
    attention: list[str] = []
    if dlq is not None and dlq.total:
        attention.append(
            f"{dlq.total} message(s) in the dead-letter queue: `ttrelay dlq inspect` shows why, "
            "`ttrelay dlq redrive` sends them back once the cause is fixed"
        )
    if readings.configuration_errors:
        attention.append(
            f"TikTok refused the relay's configuration {int(readings.configuration_errors)} time(s) in the "
            f"last {readings.window_minutes} min (access token, pixel code or URL): see `ttrelay dlq inspect`"
        )
    if readings.tcf_vendor_unconfigured:
        attention.append(
            f"{int(readings.tcf_vendor_unconfigured)} request(s) in the last {readings.window_minutes} min "
            "carried a TCF consent string that could not grant because no TikTok vendor id is configured: "
            "set TikTokVendorId (docs/consent.md, TikTok's TCF vendor id)"
        )
    if age is not None and age >= OLD_MESSAGE_SECONDS:
        attention.append(
            f"the oldest queued message is {int(age // 60)} min old: the forwarder is failing or throttled"
        )
    window = readings.window_minutes
    return {
        "outputs": dict(sorted(readings.outputs.items())),
        "queue": _queue(queue) | {"oldest_message_age_seconds": UNKNOWN if age is None else int(age)},
        "dlq": _queue(dlq),
        f"configuration_errors_last_{window}_min": _known(readings.configuration_errors),
        f"tcf_vendor_unconfigured_last_{window}_min": _known(readings.tcf_vendor_unconfigured),
        "attention": attention,
    }


def _queue(depth: QueueDepth | None) -> dict[str, object]:
    if depth is None:
        return {"messages": UNKNOWN}
    return {
        "messages": depth.total,
        "visible": depth.visible,
        "in_flight": depth.in_flight,
        "delayed": depth.delayed,
    }


def _known(value: float | None) -> object:
    return UNKNOWN if value is None else int(value)
