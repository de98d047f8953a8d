"""moto's server, with the DynamoDB behaviour the forwarder's claims rely on made to match AWS.

DynamoDB answers a PartiQL ``INSERT`` of a key that already exists with ``DuplicateItem`` (API reference,
BatchStatementError; botocore's DuplicateItemException). moto 5.2.5 overwrites the item instead, which
would turn every dedup claim into a win and hide double sends. Until moto does it itself, this entry
point runs moto's own server with that check added. It also spares an INSERT moto's copy and sort of
every item of every table (the statement reads none of them; 25 inserts took 1.9 s with 4,000 items in
the table, 23 ms without), which changes no answer, only how long a long local run takes; and it takes
item writes one at a time (moto's threaded server takes no lock; DynamoDB serialises writes to an item),
so that two claims racing on the emulator cannot both win where they could not on AWS.
``tests/integration/test_moto_partiql.py`` pins the check and moto's own behaviour, so the patch is
dropped as soon as a moto release makes it unnecessary.

SQS gets the same treatment (``sqs_applies_each_action_atomically``): moto 5.2.5 deletes a message by
rebuilding the queue's list without a lock, so two deletes at once (two pollers of the event source)
can put back what the other removed. The delete still answers success, the message stays in flight until
its visibility timeout and then comes back as a duplicate; a send during that rebuild can even vanish.
Two receives at once could also hand out the same message. ``tests/unit/local/test_moto_sqs_atomic.py``
pins both sides.

    python -m ttrelay_dev.local.moto_server -H 127.0.0.1 -p 5000      (the same arguments as moto.server)
"""

from __future__ import annotations

import threading
import time
from typing import Any

# moto's server is threaded and its item writes take no lock: an INSERT's existence check and write, and
# every other item write, happen one at a time, as DynamoDB serialises the writes to one item.
_item_writes = threading.RLock()
# SQS applies each action to a queue atomically; moto's threaded server does not (see above).
_queue_changes = threading.RLock()


def insert_refuses_existing_keys() -> None:
    from moto.dynamodb.exceptions import DynamodbException
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class DuplicateItem(DynamodbException):
        # batch_execute_statement reports a failed statement with the exception's name and message.
        name = "DuplicateItem"

        def __init__(self) -> None:
            super().__init__(
                "com.amazonaws.dynamodb.v20120810#DuplicateItemException",
                "Duplicate primary key exists in table",
            )

    inserting = threading.local()
    original_execute = DynamoDBBackend.execute_statement
    original_put = Table.put_item
    original_all_items = Table.all_items

    def execute_statement(self: Any, statement: str, parameters: list[dict[str, Any]]) -> Any:
        inserting.active = statement.lstrip()[:6].upper() == "INSERT"
        try:
            with _item_writes:
                return original_execute(self, statement, parameters)
        finally:
            inserting.active = False

    def put_item(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        if getattr(inserting, "active", False):
            hash_key = DynamoType(item_attrs[self.hash_key_attr])
            range_key = DynamoType(item_attrs[self.range_key_attr]) if self.range_key_attr else None
            if self.get_item(hash_key, range_key) is not None:
                raise DuplicateItem()
        return original_put(self, item_attrs, *args, **kwargs)

    def all_items(self: Any) -> Any:
        # An INSERT's source data: py_partiql_parser reads no rows for it, moto copies them all anyway.
        return [] if getattr(inserting, "active", False) else original_all_items(self)

    for name in ("put_item", "update_item", "delete_item"):
        setattr(DynamoDBBackend, name, _one_at_a_time(getattr(DynamoDBBackend, name)))
    DynamoDBBackend.execute_statement = execute_statement  # type: ignore[method-assign]
    Table.put_item = put_item  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]


def _one_at_a_time(write: Any) -> Any:
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _item_writes:
            return write(*args, **kwargs)

    return locked


def sqs_applies_each_action_atomically() -> None:
    """Every change to a queue's messages happens one at a time; a long-polling receive waits unlocked."""
    from moto.sqs.models import Queue, SQSBackend

    for name in ("add_message", "delete_message"):
        setattr(Queue, name, _atomic(getattr(Queue, name)))
    for name in ("change_message_visibility", "purge_queue"):
        setattr(SQSBackend, name, _atomic(getattr(SQSBackend, name)))
    original_receive = SQSBackend.receive_message

    def receive_message(
        self: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> Any:
        # Each attempt takes messages under the lock and without waiting; the long poll waits outside it,
        # so a send can land (and wake it) meanwhile.
        polling_end = time.monotonic() + wait_seconds_timeout
        while True:
            with _queue_changes:
                taken = original_receive(
                    self, queue_name, count, 0, visibility_timeout, message_attribute_names
                )
            remaining = polling_end - time.monotonic()
            if taken or remaining <= 0:
                return taken
            self.get_queue(queue_name).wait_for_messages(min(1.0, remaining))

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]


def _atomic(change: Any) -> Any:
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _queue_changes:
            return change(*args, **kwargs)

    return locked


def main() -> None:
    from moto.server import main as moto_main

    insert_refuses_existing_keys()
    sqs_applies_each_action_atomically()
    moto_main()


if __name__ == "__main__":
    main()
