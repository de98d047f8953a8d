"""SQS adapters: the events queue (collect side), when failed messages come back and the dead-letter queue
(forward side)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ttrelay.adapters import aws

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef, SendMessageBatchRequestEntryTypeDef


@dataclass(frozen=True, slots=True)
class SqsEventQueue:
    queue_url: str

    def send(self, body: str) -> None:
        aws.sqs().send_message(QueueUrl=self.queue_url, MessageBody=body)


@dataclass(frozen=True, slots=True)
class SqsDeadLetters:
    """Parks a message with why it failed; `ttrelay dlq` reads the attributes, never the PII-free body."""

    queue_url: str

    def park(self, body: str, reason: str, detail: dict[str, str]) -> None:
        attributes: dict[str, MessageAttributeValueTypeDef] = {
            name: {"DataType": "String", "StringValue": value[:256]}
            for name, value in {"reason": reason, **detail}.items()
            if value
        }
        aws.sqs().send_message(QueueUrl=self.queue_url, MessageBody=body, MessageAttributes=attributes)


_BATCH = 10  # SQS batch and receive limit


def change_visibility(
    queue_url: str, timeouts: Mapping[str, int], client: SQSClient | None = None
) -> list[str]:
    """Sets each message's visibility timeout (receipt handle -> seconds from now); returns an error code
    per message left unchanged. Never raises: a message left unchanged still comes back, after the
    queue's own visibility timeout, so a failed change delays a retry but cannot lose a message."""
    from botocore.exceptions import BotoCoreError, ClientError  # botocore only once a message failed

    client = client or aws.sqs()
    entries = list(timeouts.items())
    unchanged: list[str] = []
    for start in range(0, len(entries), _BATCH):
        chunk = entries[start : start + _BATCH]
        try:
            answer = client.change_message_visibility_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
                    for i, (handle, seconds) in enumerate(chunk)
                ],
            )
            unchanged += [failure["Code"] for failure in answer.get("Failed", [])]
        except (BotoCoreError, ClientError) as error:
            unchanged += [type(error).__name__] * len(chunk)
    return unchanged


def peek(
    queue_url: str, limit: int, client: SQSClient | None = None, wait_seconds: int = 1
) -> list[dict[str, Any]]:
    """Up to `limit` messages, left on the queue: received, then made visible again at once."""
    client = client or aws.sqs()
    seen: dict[str, dict[str, Any]] = {}
    while len(seen) < limit:
        received = client.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(_BATCH, limit - len(seen)),
            VisibilityTimeout=60,  # long enough to read the whole queue without seeing a message twice
            WaitTimeSeconds=wait_seconds,
            MessageAttributeNames=["All"],
            AttributeNames=["SentTimestamp"],
        ).get("Messages", [])
        if not received:
            break
        seen.update({message["MessageId"]: dict(message) for message in received})
    messages = list(seen.values())
    # Visible again at once; one left unchanged reappears when the 60 s above run out.
    change_visibility(queue_url, {m["ReceiptHandle"]: 0 for m in messages}, client)
    return messages


def move(
    source_url: str,
    target_url: str,
    limit: int,
    prepare: Callable[[str, str], str | None] = lambda body, _: body,
) -> tuple[int, int]:
    """Moves up to `limit` messages: sent to the target first, deleted from the source after, so a
    crash in between duplicates a message (the dedup table absorbs it) and never loses one. `prepare`
    gets each body and message id and returns the body to send, or None to leave the message where it is
    (it is not received again by this call). Returns how many were moved and how many left."""
    client = aws.sqs()
    moved = left = 0
    while moved + left < limit:
        received = client.receive_message(
            QueueUrl=source_url,
            MaxNumberOfMessages=min(_BATCH, limit - moved - left),
            VisibilityTimeout=60,  # so that this call does not receive a message it left again
            WaitTimeSeconds=1,
        ).get("Messages", [])
        if not received:
            break
        bodies = [(m, prepare(m["Body"], m["MessageId"])) for m in received]
        chosen = [(m, body) for m, body in bodies if body is not None]
        left += len(bodies) - len(chosen)
        if not chosen:
            continue
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(i), "MessageBody": body} for i, (_, body) in enumerate(chosen)
        ]
        failed = {
            f["Id"] for f in client.send_message_batch(QueueUrl=target_url, Entries=entries).get("Failed", [])
        }
        done = [m for i, (m, _) in enumerate(chosen) if str(i) not in failed]
        if done:
            client.delete_message_batch(
                QueueUrl=source_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        moved += len(done)
        if failed:
            break
    return moved, left
