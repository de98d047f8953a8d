"""Every transition of the dedup state machine on the DynamoDB adapter, in both modes, against moto's
server (with DynamoDB's PartiQL INSERT semantics, ttrelay_dev.local.moto_server) and the table built from
template.yaml (key schema and TTL attribute as deployed)."""

from collections.abc import Iterator
from typing import Any

import pytest
from support.paths import ROOT
from ttrelay.adapters import aws
from ttrelay.adapters.dynamodb_dedup import DynamoDedupStore
from ttrelay.forward.dedup import Claim, ClaimResult, DedupMode, key_digest
from ttrelay_dev.local.moto_process import MotoProcess
from ttrelay_dev.local.provision import provision
from ttrelay_dev.local.stack import worker_env
from ttrelay_dev.local.template import Resolver, load_template

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
    return DynamoDedupStore(table, mode=DedupMode.LEASE, lease_seconds=60, ttl_seconds=72 * 3600)


@pytest.fixture
def by_message(table: str) -> DynamoDedupStore:
    return DynamoDedupStore(table, mode=DedupMode.MESSAGE, lease_seconds=60, ttl_seconds=72 * 3600)


def item(table: str, key: str) -> dict[str, Any]:
    found: dict[str, Any] = aws.dynamodb().get_item(TableName=table, Key={"pk": {"S": key}}).get("Item", {})
    return found


def claim(
    store: DynamoDedupStore,
    keys: list[str],
    owner: str,
    now: float = NOW,
    receipt: str = "",
    messages: frozenset[str] = frozenset(),
    final: bool = False,
) -> dict[str, ClaimResult]:
    carried = Claim(owner, receipt, messages or frozenset({owner}), final)
    return store.claim_many(dict.fromkeys(keys, carried), now)


class CallCounter:
    """DynamoDB API calls made through the shared client, by operation name."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        aws.dynamodb().meta.events.register("before-call.dynamodb", self._seen)

    def _seen(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def close(self) -> None:
        aws.dynamodb().meta.events.unregister("before-call.dynamodb", self._seen)


@pytest.fixture
def calls() -> Iterator[CallCounter]:
    counter = CallCounter()
    yield counter
    counter.close()


def test_a_message_owned_claim_is_one_write_and_25_claims_share_one_call(
    by_message: DynamoDedupStore, table: str, calls: CallCounter
) -> None:
    keys = [f"P#Purchase#one-{i}" for i in range(60)]
    answers = claim(by_message, keys, "msg-a", receipt="receipt#run1#0")
    assert set(answers.values()) == {ClaimResult.CLAIMED}
    assert by_message.writes == 60
    assert calls.calls == ["BatchExecuteStatement"] * 3  # 25 + 25 + 10
    stored = item(table, keys[0])
    assert {name: next(iter(value.values())) for name, value in stored.items()} == {
        "pk": keys[0],
        "state": "in_flight",
        "lease_owner": "msg-a",
        "by": "message",
        "receipt": "receipt#run1#0",
        "lease_until": str(int(NOW) + 60),
        "expires_at": str(int(NOW) + 72 * 3600),  # ≥ TikTok's 48 h window
    }
    # TikTok confirmed the request: one receipt item lists all 60 (about 1 KB: two write units).
    calls.calls.clear()
    by_message.mark_delivered(dict.fromkeys(keys, Claim("msg-a", "receipt#run1#0")), NOW + 1)
    assert calls.calls == ["UpdateItem"] and by_message.writes == 60 + 2
    receipt = item(table, "receipt#run1#0")
    assert set(receipt["delivered"]["SS"]) == {key_digest(key) for key in keys}
    assert int(receipt["expires_at"]["N"]) == int(NOW + 1) + 72 * 3600


def test_the_owning_message_sends_again_unless_a_receipt_lists_the_event(
    by_message: DynamoDedupStore, table: str, calls: CallCounter
) -> None:
    key = "P#Purchase#own"
    claim(by_message, [key], "msg-a", receipt="receipt#r1#0")
    # Another message's copy while msg-a may be sending it: busy, never "duplicate" before a receipt.
    assert claim(by_message, [key], "msg-b", NOW + 5, "receipt#r9#0")[key] is ClaimResult.BUSY
    # A second copy of msg-a while the first may be sending it (the lease is live): it waits.
    assert claim(by_message, [key], "msg-a", NOW + 5, "receipt#r2#0")[key] is ClaimResult.BUSY
    # The send failed: the claim stays, its lease goes, and the message's return takes it again.
    by_message.release({key: Claim("msg-a", "receipt#r1#0")}, for_retry=True)
    assert item(table, key)["lease_owner"]["S"] == "msg-a" and item(table, key)["lease_until"]["N"] == "0"
    assert claim(by_message, [key], "msg-a", NOW + 6, "receipt#r2#0")[key] is ClaimResult.CLAIMED
    assert (item(table, key)["receipt"]["S"], item(table, key)["earlier"]["SS"]) == (
        "receipt#r2#0",
        ["receipt#r1#0"],
    )
    # The first delivery's late confirmation still counts: receipts of earlier deliveries are read too.
    by_message.mark_delivered({key: Claim("msg-a", "receipt#r1#0")}, NOW + 7)
    calls.calls.clear()
    # Back once more after TikTok confirmed it (SQS delivers a message again now and then): not resent.
    assert claim(by_message, [key], "msg-a", NOW + 200, "receipt#r3#0")[key] is ClaimResult.DELIVERED
    assert calls.calls == ["BatchExecuteStatement", "BatchGetItem", "BatchGetItem"]  # no write but the insert


def test_a_claim_held_by_any_message_of_the_batch_carrying_the_event_is_its_own(
    by_message: DynamoDedupStore,
) -> None:
    key = "P#Purchase#two-copies"
    claim(by_message, [key], "msg-b", receipt="receipt#r1#0")
    by_message.release({key: Claim("msg-b", "receipt#r1#0")}, for_retry=True)
    # msg-a (a browser's copy) sorts first in the batch that brings msg-b back: the claim is msg-b's.
    both = frozenset({"msg-a", "msg-b"})
    assert claim(by_message, [key], "msg-a", NOW + 5, "receipt#r2#0", both)[key] is ClaimResult.CLAIMED


def test_only_the_delivery_that_holds_the_claim_releases_it(by_message: DynamoDedupStore) -> None:
    key = "P#Purchase#rel-msg"
    claim(by_message, [key], "msg-a", receipt="receipt#first#0")
    # A copy of msg-a took the claim over after the first delivery's lease ran out ...
    assert claim(by_message, [key], "msg-a", NOW + 61, "receipt#second#0")[key] is ClaimResult.CLAIMED
    # ... so the first delivery's late release leaves it alone (and the lease of the second stands).
    by_message.release({key: Claim("msg-a", "receipt#first#0")}, for_retry=False)
    assert claim(by_message, [key], "msg-a", NOW + 62, "receipt#third#0")[key] is ClaimResult.BUSY
    by_message.release({key: Claim("msg-a", "receipt#second#0")}, for_retry=False)  # parked
    assert claim(by_message, [key], "msg-c", NOW + 63)[key] is ClaimResult.CLAIMED


def test_a_message_claim_past_its_ttl_is_taken_over(by_message: DynamoDedupStore, table: str) -> None:
    claim(by_message, ["P#Purchase#stale"], "msg-a")
    later = NOW + 72 * 3600 + 1
    assert claim(by_message, ["P#Purchase#stale"], "msg-b", later)["P#Purchase#stale"] is ClaimResult.CLAIMED
    assert item(table, "P#Purchase#stale")["lease_owner"]["S"] == "msg-b"


def test_either_mode_reads_the_other_modes_claims_and_keeps_every_event(
    store: DynamoDedupStore, by_message: DynamoDedupStore, table: str
) -> None:
    key = "P#Purchase#switch-lease"
    claim(store, [key], "worker")  # a live lease seen by the message mode: busy, then claimable
    assert claim(by_message, [key], "msg", NOW + 1)[key] is ClaimResult.BUSY
    assert claim(by_message, [key], "msg", NOW + 61)[key] is ClaimResult.CLAIMED
    key = "P#Purchase#switch-msg"
    claim(by_message, [key], "msg-a", receipt="receipt#r1#0")
    by_message.release(
        {key: Claim("msg-a", "receipt#r1#0")}, for_retry=True
    )  # msg-a awaits its next delivery
    # After a switch to lease mode: another message's claim is waited for; msg-a's own is msg-a's.
    assert claim(store, [key], "worker", NOW + 1, messages=frozenset({"msg-b"}))[key] is ClaimResult.WAITING
    assert claim(store, [key], "worker", NOW + 2, messages=frozenset({"msg-a"}))[key] is ClaimResult.CLAIMED
    assert (item(table, key)["lease_owner"]["S"], item(table, key)["by"]["S"]) == ("worker", "worker")


def test_racing_claimants_of_one_key_get_exactly_one_claim(by_message: DynamoDedupStore) -> None:
    from concurrent.futures import ThreadPoolExecutor

    keys = [f"P#Purchase#race-{i}" for i in range(25)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda owner: claim(by_message, keys, owner), [f"msg-{n}" for n in range(8)]))
    for key in keys:
        assert [answer[key] for answer in answers].count(ClaimResult.CLAIMED) == 1


def test_claim_then_deliver_costs_two_writes_and_sets_the_ttl(store: DynamoDedupStore, table: str) -> None:
    assert claim(store, ["P#Purchase#happy"], "w1") == {"P#Purchase#happy": ClaimResult.CLAIMED}
    assert item(table, "P#Purchase#happy")["state"]["S"] == "in_flight"
    store.mark_delivered(["P#Purchase#happy"], NOW + 1)
    stored = item(table, "P#Purchase#happy")
    assert stored["state"]["S"] == "delivered"
    assert int(stored["expires_at"]["N"]) == int(NOW + 1) + 72 * 3600  # ≥ TikTok's 48 h window
    assert store.writes == 2


def test_a_delivered_key_is_a_duplicate(store: DynamoDedupStore) -> None:
    claim(store, ["P#Purchase#dup"], "w1")
    store.mark_delivered(["P#Purchase#dup"], NOW)
    assert claim(store, ["P#Purchase#dup"], "w2", NOW + 10)["P#Purchase#dup"] is ClaimResult.DELIVERED


def test_a_live_lease_is_busy_and_an_expired_one_is_taken_over(store: DynamoDedupStore, table: str) -> None:
    claim(store, ["P#Purchase#lease"], "crashed")
    assert claim(store, ["P#Purchase#lease"], "w2", NOW + 59)["P#Purchase#lease"] is ClaimResult.BUSY
    assert claim(store, ["P#Purchase#lease"], "w2", NOW + 61)["P#Purchase#lease"] is ClaimResult.CLAIMED
    assert item(table, "P#Purchase#lease")["lease_owner"]["S"] == "w2"


def test_an_item_past_its_ttl_not_yet_swept_can_be_claimed_again(store: DynamoDedupStore) -> None:
    claim(store, ["P#Purchase#old"], "w1")
    store.mark_delivered(["P#Purchase#old"], NOW)
    later = NOW + 72 * 3600 + 1  # DynamoDB deletes expired items lazily, sometimes days late
    assert claim(store, ["P#Purchase#old"], "w2", later)["P#Purchase#old"] is ClaimResult.CLAIMED


def test_release_frees_only_the_owners_in_flight_claim(store: DynamoDedupStore, table: str) -> None:
    claim(store, ["P#Purchase#rel"], "w1")
    store.release({"P#Purchase#rel": Claim("someone-else")}, for_retry=True)
    assert item(table, "P#Purchase#rel")["state"]["S"] == "in_flight"
    store.release({"P#Purchase#rel": Claim("w1")}, for_retry=True)  # a worker's claim goes entirely
    assert item(table, "P#Purchase#rel") == {}
    claim(store, ["P#Purchase#rel"], "w1")
    store.mark_delivered(["P#Purchase#rel"], NOW)
    store.release({"P#Purchase#rel": Claim("w1")}, for_retry=False)  # a delivered mark is never released
    assert item(table, "P#Purchase#rel")["state"]["S"] == "delivered"


def test_many_claims_at_once_each_get_their_own_answer(store: DynamoDedupStore) -> None:
    keys = [f"P#Lead#bulk-{i}" for i in range(40)]
    claim(store, keys[:10], "w1")
    store.mark_delivered(keys[:5], NOW)
    results = claim(store, keys, "w2", NOW + 1)
    assert [results[k] for k in keys[:5]] == [ClaimResult.DELIVERED] * 5
    assert [results[k] for k in keys[5:10]] == [ClaimResult.BUSY] * 5
    assert [results[k] for k in keys[10:]] == [ClaimResult.CLAIMED] * 30
    store.mark_delivered(keys[10:], NOW + 2)  # 30 marks: two BatchWriteItem calls
    assert all(r is ClaimResult.DELIVERED for r in claim(store, keys[10:], "w3", NOW + 3).values())


def test_a_copy_waits_for_the_holding_message_and_is_sent_once_that_one_parks_it(
    by_message: DynamoDedupStore, table: str
) -> None:
    key = "P#Purchase#order-held"
    claim(by_message, [key], "msg-bad", receipt="receipt#h1#0")
    by_message.release({key: Claim("msg-bad", "receipt#h1#0")}, for_retry=True)  # a fault: it comes back
    assert claim(by_message, [key], "msg-good", NOW + 5, "receipt#g1#0")[key] is ClaimResult.WAITING
    assert item(table, key)["lease_owner"]["S"] == "msg-bad"  # waiting writes nothing but the insert
    claim(by_message, [key], "msg-bad", NOW + 6, "receipt#h2#0")  # back, refused, parked: released
    by_message.release({key: Claim("msg-bad", "receipt#h2#0")}, for_retry=False)
    assert claim(by_message, [key], "msg-good", NOW + 7, "receipt#g2#0")[key] is ClaimResult.CLAIMED
    by_message.mark_delivered({key: Claim("msg-good", "receipt#g2#0")}, NOW + 8)
    # Now confirmed: the refused copy redriven after its fix, and any other copy, are duplicates.
    assert claim(by_message, [key], "msg-bad", NOW + 9, "receipt#h3#0")[key] is ClaimResult.DELIVERED
    assert claim(by_message, [key], "msg-3", NOW + 9, "receipt#x#0")[key] is ClaimResult.DELIVERED


def test_a_copy_on_its_last_delivery_takes_over_only_a_claim_no_send_holds(
    by_message: DynamoDedupStore, table: str
) -> None:
    key = "P#Purchase#order-stuck"
    claim(by_message, [key], "msg-a", receipt="receipt#a1#0")
    # msg-a may be sending it: even the copy's last delivery does not take it.
    assert claim(by_message, [key], "msg-b", NOW + 5, "receipt#b1#0", final=True)[key] is ClaimResult.BUSY
    by_message.release({key: Claim("msg-a", "receipt#a1#0")}, for_retry=True)
    assert claim(by_message, [key], "msg-b", NOW + 6, "receipt#b2#0", final=True)[key] is ClaimResult.CLAIMED
    stored = item(table, key)
    assert (stored["lease_owner"]["S"], stored["receipt"]["S"]) == ("msg-b", "receipt#b2#0")
    assert stored["earlier"]["SS"] == ["receipt#a1#0"]  # a late confirmation of msg-a's still counts
    by_message.release({key: Claim("msg-a", "receipt#a1#0")}, for_retry=False)  # msg-a's late release
    assert item(table, key)["lease_owner"]["S"] == "msg-b"
