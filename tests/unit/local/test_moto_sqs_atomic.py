"""The local stack's moto applies each SQS action atomically (ttrelay.local.moto_server), pinned from both
sides, as the DynamoDB correction is in tests/integration/test_moto_partiql.py.

Two pollers delete at once. moto as released rebuilds the queue's list per delete without a lock, so one
delete can put back what another removed: DeleteMessageBatch answers success, and the message sits in
flight until the visibility timeout (360 s in the template), then comes back as a duplicate. That was the
10-message tail that kept a 2,000-event run from draining (issue 17).
"""

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.sqs.models import Queue, SQSBackend
from ttrelay.local.moto_server import sqs_applies_each_action_atomically

QUEUED = 500  # a long list makes moto's unlocked rebuild slow enough to overlap
DELETERS = 2
DELETED_EACH = 50


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


@contextlib.contextmanager
def busy_switching() -> Iterator[None]:
    """Threads switch as often as on a busy server, so concurrent actions overlap near certainly."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


@pytest.fixture
def atomic_sqs(sqs: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto with the local stack's correction, undone after the test."""
    for cls, name in (
        (Queue, "add_message"),
        (Queue, "delete_message"),
        (SQSBackend, "change_message_visibility"),
        (SQSBackend, "purge_queue"),
        (SQSBackend, "receive_message"),
    ):
        monkeypatch.setattr(cls, name, getattr(cls, name))  # remembered, so teardown restores it
    sqs_applies_each_action_atomically()
    return sqs


def _queue_with_received_messages(sqs: Any) -> tuple[str, list[dict[str, Any]]]:
    url = sqs.create_queue(QueueName="events", Attributes={"VisibilityTimeout": "360"})["QueueUrl"]
    for start in range(0, QUEUED, 10):
        entries = [{"Id": str(i), "MessageBody": str(start + i)} for i in range(10)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    received: list[dict[str, Any]] = []
    while len(received) < DELETERS * DELETED_EACH:
        received += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    return url, received


def _delete_concurrently(sqs: Any, url: str, received: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each deleter removes its share in batches of 10, as the event source does; returns every Failed."""
    failed: list[dict[str, Any]] = []

    def delete(share: list[dict[str, Any]]) -> None:
        for start in range(0, len(share), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": message["ReceiptHandle"]}
                for i, message in enumerate(share[start : start + 10])
            ]
            failed.extend(sqs.delete_message_batch(QueueUrl=url, Entries=entries).get("Failed", []))

    threads = [threading.Thread(target=delete, args=(received[i::DELETERS],)) for i in range(DELETERS)]
    with busy_switching():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return failed


def _in_flight(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_the_local_stacks_moto_keeps_every_concurrent_delete(atomic_sqs: Any) -> None:
    url, received = _queue_with_received_messages(atomic_sqs)
    assert _delete_concurrently(atomic_sqs, url, received) == []
    assert _in_flight(atomic_sqs, url) == 0  # nothing deleted comes back after the visibility timeout


def test_the_local_stacks_moto_hands_each_message_to_one_receiver_at_a_time(atomic_sqs: Any) -> None:
    url = atomic_sqs.create_queue(QueueName="events", Attributes={"VisibilityTimeout": "360"})["QueueUrl"]
    for start in range(0, 300, 10):
        entries = [{"Id": str(i), "MessageBody": str(start + i)} for i in range(10)]
        atomic_sqs.send_message_batch(QueueUrl=url, Entries=entries)
    seen: list[str] = []

    def poll() -> None:
        while messages := atomic_sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            seen.extend(message["MessageId"] for message in messages)

    threads = [threading.Thread(target=poll) for _ in range(3)]
    with busy_switching():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(seen) == 300
    assert len(set(seen)) == 300


def test_released_moto_still_loses_concurrent_deletes(sqs: Any) -> None:
    url, received = _queue_with_received_messages(sqs)
    assert _delete_concurrently(sqs, url, received) == []  # every delete answered success...
    # ...yet some deleted messages are back in flight. If this starts failing, moto locks its queues
    # itself: delete sqs_applies_each_action_atomically from ttrelay.local.moto_server.
    assert _in_flight(sqs, url) > 0
