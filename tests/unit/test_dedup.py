"""The dedup rules both stores share (ttrelay.forward.dedup): how an existing item is judged in either mode,
and what a receipt costs."""

import pytest
from ttrelay.forward.dedup import (
    BY_MESSAGE,
    DELIVERED,
    IN_FLIGHT,
    Claim,
    ClaimResult,
    DedupMode,
    InMemoryDedupStore,
    Standing,
    StoredClaim,
    judge_existing,
    key_digest,
    receipt_write_units,
    settle,
)

NOW = 1_795_000_000.0
TTL = NOW + 3600


MINE = Claim("c-1", "receipt#r#1", frozenset({"c-1", "c-9"}))


@pytest.mark.parametrize(
    ("item", "standing"),
    [
        (None, Standing.CLAIMABLE),
        (StoredClaim(DELIVERED, "", 0, NOW - 1), Standing.CLAIMABLE),  # past its TTL, not yet swept
        (StoredClaim(DELIVERED, "", 0, TTL), Standing.DELIVERED),
        # A message's claim: its own (any message of the batch carrying the event), or another's.
        (StoredClaim(IN_FLIGHT, "c-9", 0, TTL, "receipt#r#0", by=BY_MESSAGE), Standing.OWN),
        (StoredClaim(IN_FLIGHT, "c-1", NOW + 30, TTL, "receipt#r#0", by=BY_MESSAGE), Standing.OWN_LEASED),
        (StoredClaim(IN_FLIGHT, "c-2", 0, TTL, by=BY_MESSAGE), Standing.HELD),
        (StoredClaim(IN_FLIGHT, "c-2", NOW + 30, TTL, by=BY_MESSAGE), Standing.HELD_LEASED),
        # A worker's lease (and every item from before the `by` attribute).
        (StoredClaim(IN_FLIGHT, "worker", NOW + 30, TTL), Standing.BUSY),
        (StoredClaim(IN_FLIGHT, "dead-worker", NOW - 1, TTL), Standing.CLAIMABLE),
    ],
)
def test_an_existing_item_is_judged_by_one_rule_in_both_modes(
    item: StoredClaim | None, standing: Standing
) -> None:
    assert judge_existing(item, MINE, NOW) is standing


def test_a_receipt_costs_a_write_unit_per_kilobyte_of_digests() -> None:
    assert len(key_digest("P#Purchase#order-1")) == 16
    assert receipt_write_units("receipt#" + "f" * 32 + "#0", 1) == 1
    assert receipt_write_units("receipt#" + "f" * 32 + "#0", 100) == 2
    assert receipt_write_units("receipt#" + "f" * 32 + "#0", 1000) == 17


def test_the_memory_store_counts_what_dynamodb_would_bill() -> None:
    store = InMemoryDedupStore(mode=DedupMode.MESSAGE)
    claims = {f"P#Purchase#{i}": Claim("msg", "receipt#r#0") for i in range(100)}
    assert set(store.claim_many(claims, NOW).values()) == {ClaimResult.CLAIMED}
    store.mark_delivered(claims, NOW)
    assert store.writes == 100 + 2
    lease = InMemoryDedupStore(mode=DedupMode.LEASE)
    lease.claim_many({key: Claim("worker") for key in claims}, NOW)
    lease.mark_delivered({key: Claim("worker") for key in claims}, NOW)
    assert lease.writes == 200


def test_a_late_release_by_an_overtaken_delivery_leaves_the_new_holder_alone() -> None:
    store, key = InMemoryDedupStore(lease_seconds=20), "P#Purchase#late"
    store.claim_many({key: Claim("c-1", "receipt#a#0")}, NOW)  # copy A of the message
    assert (
        store.claim_many({key: Claim("c-1", "receipt#b#0")}, NOW + 21)[key] is ClaimResult.CLAIMED
    )  # copy B
    store.release({key: Claim("c-1", "receipt#a#0")}, for_retry=True)  # A gives up, late
    assert store.claim_many({key: Claim("c-1", "receipt#c#0")}, NOW + 22)[key] is ClaimResult.BUSY  # B sends
    lease = InMemoryDedupStore(mode=DedupMode.LEASE, lease_seconds=20)
    lease.claim_many({key: Claim("worker-a")}, NOW)
    lease.claim_many({key: Claim("worker-b")}, NOW + 21)
    lease.release({key: Claim("worker-a")}, for_retry=True)
    assert lease.items[key].owner == "worker-b"


@pytest.mark.parametrize(
    ("standing", "confirmed", "final", "result"),
    [
        # Only a confirmation makes another message's copy a duplicate; until then the copy waits.
        (Standing.HELD, True, False, ClaimResult.DELIVERED),
        (Standing.HELD, False, False, ClaimResult.WAITING),
        (Standing.HELD_LEASED, True, False, ClaimResult.DELIVERED),
        (Standing.HELD_LEASED, False, False, ClaimResult.BUSY),  # it may be being sent right now
        # On the copy's last delivery it takes over a claim no send holds, rather than wait any longer ...
        (Standing.HELD, False, True, None),
        # ... but never one whose send may be under way, and never a confirmed one.
        (Standing.HELD_LEASED, False, True, ClaimResult.BUSY),
        (Standing.HELD, True, True, ClaimResult.DELIVERED),
        (Standing.OWN, False, False, None),
        (Standing.OWN, True, False, ClaimResult.DELIVERED),
        (Standing.OWN_LEASED, False, True, ClaimResult.BUSY),
        (Standing.DELIVERED, False, True, ClaimResult.DELIVERED),
        (Standing.BUSY, False, True, ClaimResult.BUSY),
        (Standing.CLAIMABLE, False, False, None),
    ],
)
def test_one_decision_for_both_stores(
    standing: Standing, confirmed: bool, final: bool, result: ClaimResult | None
) -> None:
    assert settle(standing, confirmed, final) is result


def test_a_copy_waits_behind_another_message_and_is_claimable_once_that_one_parks_it() -> None:
    store, key = InMemoryDedupStore(lease_seconds=20), "P#Purchase#order-1"
    holder, copy = Claim("c-bad", "receipt#h#0"), Claim("c-good", "receipt#g#0", frozenset({"c-good"}))
    store.claim_many({key: holder}, NOW)
    store.release({key: holder}, for_retry=True)  # a fault: the holder's message comes back for it
    assert store.claim_many({key: copy}, NOW + 1)[key] is ClaimResult.WAITING
    store.claim_many({key: holder}, NOW + 2)  # back, and refused this time: parked
    store.release({key: holder}, for_retry=False)
    assert store.claim_many({key: copy}, NOW + 3)[key] is ClaimResult.CLAIMED
    store.mark_delivered({key: copy}, NOW + 4)
    # The holder redriven after its fix: the good copy's receipt makes it a duplicate.
    assert store.claim_many({key: holder}, NOW + 5)[key] is ClaimResult.DELIVERED


def test_a_copy_that_took_a_claim_over_keeps_the_holders_receipts() -> None:
    store, key = InMemoryDedupStore(lease_seconds=20), "P#Purchase#order-2"
    holder = Claim("c-1", "receipt#h#0")
    store.claim_many({key: holder}, NOW)
    store.release({key: holder}, for_retry=True)
    last = Claim("c-2", "receipt#g#0", frozenset({"c-2"}), final=True)
    assert store.claim_many({key: last}, NOW + 30)[key] is ClaimResult.CLAIMED
    assert (store.items[key].owner, store.items[key].earlier) == ("c-2", frozenset({"receipt#h#0"}))
    store.release({key: holder}, for_retry=False)  # the overtaken holder's late release: not its claim
    assert store.items[key].owner == "c-2"
