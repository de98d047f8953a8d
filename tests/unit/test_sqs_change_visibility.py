"""The adapter that sets a failed message's retry delay: it changes what it can and never raises, so a
message it could not change still fails normally and comes back after the queue's own timeout."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from ttrelay.adapters.sqs import change_visibility


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def received(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    for i in range(count):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    messages: list[dict[str, Any]] = []
    while len(messages) < count:
        messages += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    return messages


def test_visibility_is_set_per_message_in_batches_of_ten(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="events", Attributes={"VisibilityTimeout": "360"})["QueueUrl"]
    messages = received(sqs, url, 12)
    soon = {message["ReceiptHandle"]: 0 for message in messages[:11]}  # 0: visible again at once
    assert change_visibility(url, {**soon, messages[11]["ReceiptHandle"]: 300}, sqs) == []
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)["Messages"]
    again += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)["Messages"]
    assert sorted(m["Body"] for m in again) == sorted(m["Body"] for m in messages[:11])


def test_a_change_sqs_refuses_or_an_unreachable_queue_is_reported_not_raised(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="events")["QueueUrl"]
    (message,) = received(sqs, url, 1)
    assert len(change_visibility(url, {"not-a-receipt-handle": 5}, sqs)) == 1
    assert change_visibility(url.replace("events", "gone"), {message["ReceiptHandle"]: 5}, sqs) == [
        "QueueDoesNotExist"
    ]
