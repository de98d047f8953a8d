"""The one moto behaviour the local stack corrects (ttrelay_dev.local.moto_server), pinned from both sides.

DynamoDB refuses a PartiQL INSERT of an existing key with DuplicateItem; the forwarder's batched claims
depend on it. The first test runs the local stack's moto server; the second runs moto as released, and
fails the day a moto release stops overwriting — then the correction is to be removed.
"""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from ttrelay_dev.local.moto_process import MotoProcess


def insert(client: Any, key: str, owner: str) -> dict[str, Any]:
    statement = f"INSERT INTO \"claims\" VALUE {{'pk': '{key}', 'lease_owner': '{owner}'}}"
    answer: dict[str, Any] = client.batch_execute_statement(Statements=[{"Statement": statement}])[
        "Responses"
    ][0]
    return answer


def make_table(client: Any) -> None:
    client.create_table(
        TableName="claims",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def owner_of(client: Any, key: str) -> str:
    owner: str = client.get_item(TableName="claims", Key={"pk": {"S": key}})["Item"]["lease_owner"]["S"]
    return owner


@pytest.fixture(scope="module")
def local_stack_moto() -> Iterator[Any]:
    moto = MotoProcess()
    endpoint = moto.start()
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    make_table(client)
    yield client
    moto.stop()


def test_the_local_stacks_moto_refuses_a_second_insert_of_a_key_as_dynamodb_does(
    local_stack_moto: Any,
) -> None:
    assert "Error" not in insert(local_stack_moto, "P#Purchase#1", "first")
    assert insert(local_stack_moto, "P#Purchase#1", "second")["Error"]["Code"] == "DuplicateItem"
    assert owner_of(local_stack_moto, "P#Purchase#1") == "first"
    assert "Error" not in insert(local_stack_moto, "P#Purchase#2", "second")  # other keys unaffected


def test_moto_as_released_still_overwrites_so_the_correction_is_still_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "x")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        make_table(client)
        insert(client, "P#Purchase#1", "first")
        # If this starts failing, moto refuses duplicates itself: drop ttrelay_dev.local.moto_server's patch.
        assert "Error" not in insert(client, "P#Purchase#1", "second")
        assert owner_of(client, "P#Purchase#1") == "second"
