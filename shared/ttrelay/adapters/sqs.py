"""SQS adapters: the events queue (collect side) and the dead-letter queue (forward side)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ttrelay.adapters import aws

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef


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
