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


class FinishingFunction:
    """Succeeds with every message: the mapping must delete them all."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def invoke(self, event: dict[str, Any]) -> Invocation:
        self.seen += [record["body"] for record in event["Records"]]
        return Invocation(ok=True, result={"batchItemFailures": []})


class FlakyDeletes:
    """The SQS client, except that its first DeleteMessageBatch calls go wrong as `failures` says."""

    def __init__(self, sqs: Any, failures: list[str]) -> None:
        self._sqs = sqs
        self._failures = failures  # "entry": SQS lists the first entry in Failed; "call": the call raises
        self.delete_calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.delete_calls += 1
        failure = self._failures.pop(0) if self._failures else None
        if failure == "call":
            raise ConnectionError("connection reset")
        if failure == "entry":
            answer: dict[str, Any] = self._sqs.delete_message_batch(QueueUrl=QueueUrl, Entries=Entries[1:])
            failed = {"Id": Entries[0]["Id"], "SenderFault": False, "Code": "InternalError"}
            return {**answer, "Failed": [*answer.get("Failed", []), failed]}
        deleted: dict[str, Any] = self._sqs.delete_message_batch(QueueUrl=QueueUrl, Entries=Entries)
        return deleted


def _run_until_seen(source: SqsEventSource, function: FinishingFunction, bodies: int) -> None:
    source.start()
    try:
        deadline = time.monotonic() + 8
        while len(function.seen) < bodies and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # the deletes and their retries
    finally:
        source.stop()


def _messages_left(sqs: Any, url: str) -> dict[str, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return {
        "visible": int(attributes["ApproximateNumberOfMessages"]),
        "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    }


@pytest.mark.parametrize("failure", ["entry", "call"])
def test_a_delete_that_fails_once_is_retried_so_a_finished_message_never_comes_back(
    sqs: Any, failure: str
) -> None:
    url = sqs.create_queue(QueueName="events", Attributes={"VisibilityTimeout": str(QUEUE_VISIBILITY)})[
        "QueueUrl"
    ]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    flaky = FlakyDeletes(sqs, [failure])
    function = FinishingFunction()
    # A 1 s window gathers all three into one batch, so one delete call covers them.
    source = SqsEventSource(SqsMapping("ForwardFunction", url, arn, 10, 1, True), function, flaky)  # type: ignore[arg-type]
    _run_until_seen(source, function, 3)
    assert sorted(function.seen) == ["a", "b", "c"]
    assert flaky.delete_calls == 2  # the failed delete was sent again
    assert _messages_left(sqs, url) == {"visible": 0, "in_flight": 0}  # drained, not hidden for 30 s


def test_a_delete_that_keeps_failing_is_logged_not_retried_forever(
    sqs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    url = sqs.create_queue(QueueName="events", Attributes={"VisibilityTimeout": str(QUEUE_VISIBILITY)})[
        "QueueUrl"
    ]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.send_message(QueueUrl=url, MessageBody="a")
    flaky = FlakyDeletes(sqs, ["call"] * 10)
    function = FinishingFunction()
    source = SqsEventSource(SqsMapping("ForwardFunction", url, arn, 10, 0, True), function, flaky)  # type: ignore[arg-type]
    with caplog.at_level("WARNING", logger="ttrelay_dev.local"):
        _run_until_seen(source, function, 1)  # stopping waits for the delete's last retry
    assert flaky.delete_calls == 4
    assert "1 finished messages not deleted (ConnectionError)" in caplog.text
    assert _messages_left(sqs, url)["in_flight"] == 1  # it will come back after the visibility timeout
