"""Every transition of the dedup state machine on the DynamoDB adapter, against moto's server with the
table built from template.yaml (key schema and TTL attribute as deployed)."""

from collections.abc import Iterator
from typing import Any

import pytest
from support.paths import ROOT
from ttrelay.adapters import aws
from ttrelay.adapters.dynamodb_dedup import DynamoDedupStore
from ttrelay.dedup import ClaimResult
from ttrelay.local.moto_process import MotoProcess
from ttrelay.local.provision import provision
from ttrelay.local.stack import worker_env
from ttrelay.local.template import Resolver, load_template

NOW = 1_795_000_000.0


@pytest.fixture(scope="module")
def table(monkeypatch_module: pytest.MonkeyPatch) -> Iterator[str]:
    moto = MotoProcess()
    endpoint = moto.start()
    for name, value in worker_env(endpoint).items():
        monkeypatch_module.setenv(name, value)
    aws._client.cache_clear()
    import boto3

    session = boto3.session.Session()
    clients = {name: session.client(name) for name in ("sqs", "dynamodb", "secretsmanager")}
    resolver = Resolver.for_template(load_template(ROOT / "template.yaml"), {})
    provision(ROOT, resolver, clients, {})
    yield resolver.refs["DedupTable"]
    aws._client.cache_clear()
    moto.stop()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture
def store(table: str) -> DynamoDedupStore:
    return DynamoDedupStore(table, lease_seconds=60, ttl_seconds=72 * 3600)


def item(table: str, key: str) -> dict[str, Any]:
    found: dict[str, Any] = aws.dynamodb().get_item(TableName=table, Key={"pk": {"S": key}}).get("Item", {})
    return found


def test_claim_then_deliver_costs_two_writes_and_sets_the_ttl(store: DynamoDedupStore, table: str) -> None:
    assert store.claim_many(["P#Purchase#happy"], "w1", NOW) == {"P#Purchase#happy": ClaimResult.CLAIMED}
    assert item(table, "P#Purchase#happy")["state"]["S"] == "in_flight"
    store.mark_delivered(["P#Purchase#happy"], NOW + 1)
    stored = item(table, "P#Purchase#happy")
    assert stored["state"]["S"] == "delivered"
    assert int(stored["expires_at"]["N"]) == int(NOW + 1) + 72 * 3600  # ≥ TikTok's 48 h window
    assert store.writes == 2


def test_a_delivered_key_is_a_duplicate(store: DynamoDedupStore) -> None:
    store.claim_many(["P#Purchase#dup"], "w1", NOW)
    store.mark_delivered(["P#Purchase#dup"], NOW)
    assert store.claim_many(["P#Purchase#dup"], "w2", NOW + 10)["P#Purchase#dup"] is ClaimResult.DELIVERED


def test_a_live_lease_is_busy_and_an_expired_one_is_taken_over(store: DynamoDedupStore, table: str) -> None:
    store.claim_many(["P#Purchase#lease"], "crashed", NOW)
    assert store.claim_many(["P#Purchase#lease"], "w2", NOW + 59)["P#Purchase#lease"] is ClaimResult.BUSY
    assert store.claim_many(["P#Purchase#lease"], "w2", NOW + 61)["P#Purchase#lease"] is ClaimResult.CLAIMED
    assert item(table, "P#Purchase#lease")["lease_owner"]["S"] == "w2"


def test_an_item_past_its_ttl_not_yet_swept_can_be_claimed_again(store: DynamoDedupStore) -> None:
    store.claim_many(["P#Purchase#old"], "w1", NOW)
    store.mark_delivered(["P#Purchase#old"], NOW)
    later = NOW + 72 * 3600 + 1  # DynamoDB deletes expired items lazily, sometimes days late
    assert store.claim_many(["P#Purchase#old"], "w2", later)["P#Purchase#old"] is ClaimResult.CLAIMED


def test_release_frees_only_the_owners_in_flight_claim(store: DynamoDedupStore, table: str) -> None:
    store.claim_many(["P#Purchase#rel"], "w1", NOW)
    store.release(["P#Purchase#rel"], "someone-else")
    assert item(table, "P#Purchase#rel")["state"]["S"] == "in_flight"
    store.release(["P#Purchase#rel"], "w1")
    assert item(table, "P#Purchase#rel") == {}
    store.claim_many(["P#Purchase#rel"], "w1", NOW)
    store.mark_delivered(["P#Purchase#rel"], NOW)
    store.release(["P#Purchase#rel"], "w1")  # a delivered mark is never released
    assert item(table, "P#Purchase#rel")["state"]["S"] == "delivered"


def test_many_claims_at_once_each_get_their_own_answer(store: DynamoDedupStore) -> None:
    keys = [f"P#Lead#bulk-{i}" for i in range(40)]
    store.claim_many(keys[:10], "w1", NOW)
    store.mark_delivered(keys[:5], NOW)
    results = store.claim_many(keys, "w2", NOW + 1)
    assert [results[k] for k in keys[:5]] == [ClaimResult.DELIVERED] * 5
    assert [results[k] for k in keys[5:10]] == [ClaimResult.BUSY] * 5
    assert [results[k] for k in keys[10:]] == [ClaimResult.CLAIMED] * 30
    store.mark_delivered(keys[10:], NOW + 2)  # 30 marks: two BatchWriteItem calls
    assert all(r is ClaimResult.DELIVERED for r in store.claim_many(keys[10:], "w3", NOW + 3).values())
