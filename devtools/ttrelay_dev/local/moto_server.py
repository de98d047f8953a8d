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

    python -m ttrelay_dev.local.moto_server -H 127.0.0.1 -p 5000      (the same arguments as moto.server)
"""

from __future__ import annotations

import threading
from typing import Any

# moto's server is threaded and its item writes take no lock: an INSERT's existence check and write, and
# every other item write, happen one at a time, as DynamoDB serialises the writes to one item.
_item_writes = threading.RLock()


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


def main() -> None:
    from moto.server import main as moto_main

    insert_refuses_existing_keys()
    moto_main()


if __name__ == "__main__":
    main()
