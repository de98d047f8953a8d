"""ForwardFunction: SQS batch → dedup claim → Events API → partial batch response."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ttrelay.adapters.sqs import change_visibility
from ttrelay.config import forward_settings
from ttrelay.forward.redelivery import visibility_delay
from ttrelay.forward.use_case import ForwardReport, InboundMessage
from ttrelay.observability.telemetry import log_invocation, logger, metrics, report_forwarded
from ttrelay.runtime import forwarder

STATE_WRITE_MARGIN_SECONDS = 10
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class NotDelivered(Exception):
    """This message keeps events that must be retried (SQS redelivers it; the DLQ catches the rest)."""


def _record_outcome(report: ForwardReport) -> Callable[[SQSRecord], None]:
    def record_handler(record: SQSRecord) -> None:
        if record.message_id in report.failed_message_ids:
            raise NotDelivered(record.message_id)

    return record_handler


def _come_back_soon(
    records: list[dict[str, Any]], messages: list[InboundMessage], report: ForwardReport
) -> None:
    """Failed messages return after their reason's delay, not the queue's whole visibility timeout."""
    lease = forward_settings().claim_lease_seconds
    timeouts = {
        record["receiptHandle"]: visibility_delay(reason, message.receive_count, lease_seconds=lease)
        for record, message in zip(records, messages, strict=True)
        if (reason := report.retry_reasons.get(message.message_id)) is not None
    }
    if timeouts and (unchanged := change_visibility(SQSRecord(records[0]).queue_url, timeouts)):
        # Still reported as failed below: they come back after the queue's own timeout instead.
        logger.warning(
            "visibility_unchanged", extra={"messages": len(unchanged), "codes": sorted(set(unchanged))}
        )


@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    log_invocation(context.aws_request_id)
    messages = [
        InboundMessage(
            record["messageId"],
            record["body"],
            int(record.get("attributes", {}).get("ApproximateReceiveCount", 1)),
        )
        for record in event["Records"]
    ]
    # Retries inside the invocation stop early enough to write their state before Lambda's timeout.
    deadline = time.time() + context.get_remaining_time_in_millis() / 1000 - STATE_WRITE_MARGIN_SECONDS
    report = forwarder().forward(messages, deadline=deadline)
    report_forwarded(report)
    _come_back_soon(event["Records"], messages, report)
    return process_partial_response(event, _record_outcome(report), processor, context)
