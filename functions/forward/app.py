"""ForwardFunction: SQS batch → dedup claim → Events API → partial batch response."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from ttrelay.forward import ForwardReport, InboundMessage
from ttrelay.observability import logger, metrics, report_forwarded
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


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
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
    return process_partial_response(event, _record_outcome(report), processor, context)
