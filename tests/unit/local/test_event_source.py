"""The local SQS event source leaves a failed message's visibility to the queue and the function, as
Lambda's mapping does: a message the function delayed with ChangeMessageVisibility comes back when that
delay ends, one it did not touch only after the queue's visibility timeout."""

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from ttrelay_dev.local.event_source import SqsEventSource
from ttrelay_dev.local.invoker import Invocation
from ttrelay_dev.local.provision import SqsMapping

QUEUE_VISIBILITY = 30  # far beyond the test's run: a message seen again was delayed by the function


class DelayingFunction:
    """Fails every message; asks SQS to bring back those whose body is "soon" after 1 s."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs, self.queue_url = sqs, queue_url
        self.seen: list[tuple[str, int]] = []  # (body, ApproximateReceiveCount) per record handed over

    def invoke(self, event: dict[str, Any]) -> Invocation:
        for record in event["Records"]:
            self.seen.append((record["body"], int(record["attributes"]["ApproximateReceiveCount"])))
            if record["body"] == "soon":
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=1
                )
        failures = [{"itemIdentifier": record["messageId"]} for record in event["Records"]]
        return Invocation(ok=True, result={"batchItemFailures": failures})


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def test_a_failed_message_comes_back_when_the_functions_visibility_change_ends(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="events", Attributes={"VisibilityTimeout": str(QUEUE_VISIBILITY)})[
        "QueueUrl"
    ]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    mapping = SqsMapping("ForwardFunction", url, arn, 10, 0, report_batch_item_failures=True)
    function = DelayingFunction(sqs, url)
    sqs.send_message(QueueUrl=url, MessageBody="soon")
    sqs.send_message(QueueUrl=url, MessageBody="later")
    source = SqsEventSource(mapping, function, sqs)  # type: ignore[arg-type]
    source.start()
    try:
        deadline = time.monotonic() + 8
        while ("soon", 2) not in function.seen and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        source.stop()
    assert ("soon", 2) in function.seen  # back after the function's 1 s, its second delivery
    assert [body for body, _ in function.seen].count("later") == 1  # still hidden by the queue's 30 s
