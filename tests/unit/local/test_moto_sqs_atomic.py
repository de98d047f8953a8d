"""The local stack's moto applies each SQS action atomically (ttrelay_dev.local.moto_server), pinned from both
sides, as the DynamoDB correction is in tests/integration/test_moto_partiql.py.

Two pollers delete at once. moto as released rebuilds the queue's list per delete without a lock, so one
delete can put back what another removed: DeleteMessageBatch answers success, and the message sits in
flight until the visibility timeout (360 s in the template), then comes back as a duplicate. That was the
10-message tail that kept a 2,000-event run from draining (issue 17).

A busy server is simulated by slowing moto's per-message steps (a sleep lets the other thread run), so
concurrent actions overlap every time instead of by chance.
"""

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.sqs.models import Message, Queue, SQSBackend
from ttrelay_dev.local.moto_server import sqs_applies_each_action_atomically

STEP_S = 0.0005  # per message looked at: a deleter's scan of the queue spans the other's whole batch


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def slowed(step: Callable[..., Any]) -> Callable[..., Any]:
        def slow(*args: Any, **kwargs: Any) -> Any:
            time.sleep(STEP_S)
            return step(*args, **kwargs)

        return slow

    monkeypatch.setattr(Message, "had_receipt_handle", slowed(Message.had_receipt_handle))
    monkeypatch.setattr(Message, "mark_received", slowed(Message.mark_received))
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


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


def _filled_queue(sqs: Any, messages: int) -> str:
    url: str = sqs.create_queue(QueueName="events", Attributes={"VisibilityTimeout": "360"})["QueueUrl"]
    for start in range(0, messages, 10):
        entries = [{"Id": str(i), "MessageBody": str(start + i)} for i in range(10)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    return url


def _receive(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    while len(received) < count:
        received += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    return received


def _concurrently(*work: Callable[[], None]) -> None:
    threads = [threading.Thread(target=job) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _in_flight_after_two_pollers_delete(sqs: Any) -> int:
    """Two pollers delete their batches of 10 at the same time, as the event source does; every delete
    must answer success. Returns how many deleted messages are in flight afterwards."""
    url = _filled_queue(sqs, 60)
    received = _receive(sqs, url, 40)
    failed: list[dict[str, Any]] = []

    def delete(share: list[dict[str, Any]]) -> Callable[[], None]:
        def run() -> None:
            for start in range(0, len(share), 10):
                entries = [
                    {"Id": str(i), "ReceiptHandle": message["ReceiptHandle"]}
                    for i, message in enumerate(share[start : start + 10])
                ]
                failed.extend(sqs.delete_message_batch(QueueUrl=url, Entries=entries).get("Failed", []))

        return run

    _concurrently(delete(received[0::2]), delete(received[1::2]))
    assert failed == []
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessagesNotVisible"])


def _receipts_by_three_pollers(sqs: Any) -> list[str]:
    url = _filled_queue(sqs, 60)
    seen: list[str] = []

    def poll() -> None:
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            seen.extend(message["MessageId"] for message in messages)

    _concurrently(poll, poll, poll)
    return seen


def test_the_local_stacks_moto_keeps_every_concurrent_delete(atomic_sqs: Any) -> None:
    # Nothing deleted stays in flight, to come back after the visibility timeout.
    assert _in_flight_after_two_pollers_delete(atomic_sqs) == 0


def test_the_local_stacks_moto_hands_each_message_to_one_receiver_at_a_time(atomic_sqs: Any) -> None:
    seen = _receipts_by_three_pollers(atomic_sqs)
    assert len(seen) == 60
    assert len(set(seen)) == 60


def test_released_moto_still_loses_concurrent_deletes_and_shares_receives(sqs: Any) -> None:
    # If this starts failing, moto locks its queues itself: delete sqs_applies_each_action_atomically
    # from ttrelay_dev.local.moto_server (and this test).
    assert _in_flight_after_two_pollers_delete(sqs) > 0
    assert len(_receipts_by_three_pollers(sqs)) > 60
