"""An SQS event source mapping, as Lambda runs one: poll, batch, invoke, delete what succeeded.

Semantics kept from the real service: a batch fills up to BatchSize or until the batching window ends;
with ReportBatchItemFailures only the reported messages stay on the queue (a malformed report fails the
whole batch) and their visibility is left alone, so each comes back when its visibility timeout ends:
the queue's, or the one the function set with ChangeMessageVisibility (docs/delivery.md); a function
error or timeout leaves every message to reappear after the visibility timeout; the queue's redrive
policy (moto) moves a message to the DLQ after maxReceiveCount receives. Every DeleteMessageBatch answer
is checked: an entry in its `Failed` list (or a call that failed outright) is deleted again, a few times,
and what still stays is logged, since it will come back as a duplicate after the visibility timeout.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ttrelay_dev.local.invoker import FunctionRunner
from ttrelay_dev.local.provision import SqsMapping

log = logging.getLogger("ttrelay_dev.local")
_RECEIVE_MAX = 10  # SQS ReceiveMessage (and DeleteMessageBatch) limit per call
_DELETE_ATTEMPTS = 4
_DELETE_RETRY_S = 0.2  # doubled after each attempt: the last retry comes 1.4 s after the first delete


class SqsEventSource:
    def __init__(
        self,
        mapping: SqsMapping,
        runner: FunctionRunner,
        sqs: Any,
        region: str = "us-east-1",
        pollers: int = 1,
    ) -> None:
        self.mapping = mapping
        self.runner = runner
        self.sqs = sqs
        self.region = region
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"esm-{mapping.function}-{i}", daemon=True)
            for i in range(pollers)
        ]
        self.invocations = 0

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._gather()
                if messages:
                    self._deliver(messages)
            except Exception:  # the mapping keeps polling through transient errors, as Lambda does
                log.exception("event source poll failed")
                self._stop.wait(1)

    def _gather(self) -> list[dict[str, Any]]:
        """Long-polls until a first message arrives, then fills the batch until full or the window ends."""
        batch: list[dict[str, Any]] = []
        deadline: float | None = None
        while len(batch) < self.mapping.batch_size and not self._stop.is_set():
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            wait = 1 if deadline is None else min(1, round(deadline - now))
            received = self.sqs.receive_message(
                QueueUrl=self.mapping.queue_url,
                MaxNumberOfMessages=min(_RECEIVE_MAX, self.mapping.batch_size - len(batch)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            # A message whose visibility lapsed inside the window comes back: keep only its newest receipt.
            known = {message["MessageId"] for message in received}
            batch = [message for message in batch if message["MessageId"] not in known] + received
            if batch and deadline is None:
                deadline = time.monotonic() + self.mapping.batching_window_s
        return batch

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [self._record(message) for message in messages]}
        self.invocations += 1
        outcome = self.runner.invoke(event)
        if not outcome.ok:
            log.warning("%s failed: %s", self.mapping.function, (outcome.error or {}).get("errorMessage"))
            return  # every message reappears after its visibility timeout
        failed = self._failed_ids(outcome.result, {m["MessageId"] for m in messages})
        # Failed messages are not touched: resetting their visibility here would override the delay the
        # function chose for each (Lambda's mapping never changes it either).
        self._delete([m for m in messages if m["MessageId"] not in failed])

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        """Deletes what the function finished, retrying every entry SQS did not delete."""
        pending, reasons = messages, dict[str, str]()
        for attempt in range(_DELETE_ATTEMPTS):
            if attempt:
                time.sleep(_DELETE_RETRY_S * 2 ** (attempt - 1))
            pending, reasons = self._delete_once(pending)
            if not pending:
                return
        log.warning(
            "%s: %d finished messages not deleted (%s); they come back after the visibility timeout",
            self.mapping.function,
            len(pending),
            ", ".join(sorted(set(reasons.values()))),
        )

    def _delete_once(self, messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """One DeleteMessageBatch per 10 messages; returns the messages left and why, by message id."""
        left: list[dict[str, Any]] = []
        reasons: dict[str, str] = {}
        for start in range(0, len(messages), _RECEIVE_MAX):
            chunk = messages[start : start + _RECEIVE_MAX]
            try:
                answer = self.sqs.delete_message_batch(
                    QueueUrl=self.mapping.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
                    ],
                )
            except Exception as error:  # the whole call failed (connection, throttling): all of it again
                left += chunk
                reasons.update({m["MessageId"]: type(error).__name__ for m in chunk})
                continue
            for entry in answer.get("Failed", []):
                message = chunk[int(entry["Id"])]
                left.append(message)
                reasons[message["MessageId"]] = str(entry.get("Code", "unknown"))
        return left, reasons

    def _failed_ids(self, result: Any, ids: set[str]) -> set[str]:
        if not self.mapping.report_batch_item_failures:
            return set()
        if result is None:
            return set()
        failures = result.get("batchItemFailures") if isinstance(result, dict) else None
        if failures is None:
            return set()
        reported = {str(item.get("itemIdentifier")) for item in failures if isinstance(item, dict)}
        # An empty or unknown itemIdentifier makes Lambda treat the whole batch as failed.
        return ids if not reported <= ids else reported

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = message.get("Attributes", {})
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                key: attributes[key]
                for key in (
                    "ApproximateReceiveCount",
                    "SentTimestamp",
                    "SenderId",
                    "ApproximateFirstReceiveTimestamp",
                )
                if key in attributes
            },
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.mapping.queue_arn,
            "awsRegion": self.region,
        }
