"""When a failed message comes back: the per-reason visibility delay (ttrelay.forward.redelivery)."""

import pytest
from ttrelay.forward.events_api import classify
from ttrelay.forward.redelivery import SCHEDULE, RetryReason, retry_reason, visibility_delay

LEASE = 120
LOW, HIGH = (lambda: 0.0), (lambda: 1.0)  # the smallest and the largest jitter draw


def delays(reason: RetryReason, draw: float) -> list[int]:
    return [visibility_delay(reason, n, lease_seconds=LEASE, draw=lambda: draw) for n in range(1, 10)]


def test_a_fault_comes_back_in_seconds_and_the_wait_doubles_per_receive_up_to_the_cap() -> None:
    assert delays(RetryReason.FAULT, 1.0) == [2, 4, 8, 16, 32, 64, 128, 256, 300]


def test_equal_jitter_draws_between_half_and_all_of_the_ceiling() -> None:
    assert delays(RetryReason.FAULT, 0.0) == [1, 2, 4, 8, 16, 32, 64, 128, 150]
    middle = visibility_delay(RetryReason.FAULT, 5, lease_seconds=LEASE, draw=lambda: 0.5)
    assert 16 < middle < 32


@pytest.mark.parametrize("reason", [RetryReason.FAULT, RetryReason.RATE_LIMITED, RetryReason.MAINTENANCE])
def test_the_cap_holds_however_often_a_message_failed(reason: RetryReason) -> None:
    cap = SCHEDULE[reason].cap_seconds
    assert visibility_delay(reason, 10_000, lease_seconds=LEASE, draw=HIGH) == cap
    assert visibility_delay(reason, 10_000, lease_seconds=LEASE, draw=LOW) == cap / 2


def test_a_rate_limit_waits_longer_than_a_fault_and_maintenance_longest() -> None:
    first = [delays(reason, 1.0)[0] for reason in SCHEDULE]
    assert first == [2, 2, 10, 60]  # FAULT, WAITING, RATE_LIMITED, MAINTENANCE bases
    assert delays(RetryReason.MAINTENANCE, 1.0)[:5] == [60, 120, 240, 480, 900]


def test_the_delay_is_never_zero_and_an_unknown_receive_count_counts_as_the_first() -> None:
    assert visibility_delay(RetryReason.FAULT, 0, lease_seconds=LEASE, draw=LOW) == 1


def test_a_busy_event_comes_back_in_seconds_and_never_later_than_one_lease() -> None:
    # The other worker is nearly always mid-send; a crashed one's lease runs out within one lease.
    assert visibility_delay(RetryReason.BUSY, 1, lease_seconds=LEASE, draw=HIGH) == 2
    assert visibility_delay(RetryReason.BUSY, 3, lease_seconds=LEASE, draw=HIGH) == 8
    assert visibility_delay(RetryReason.BUSY, 12, lease_seconds=LEASE, draw=HIGH) == LEASE
    assert visibility_delay(RetryReason.BUSY, 12, lease_seconds=LEASE, draw=LOW) == LEASE / 2


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (200, {"code": 60001}, RetryReason.MAINTENANCE),
        (200, {"code": 40100}, RetryReason.RATE_LIMITED),
        (200, {"code": 61000}, RetryReason.RATE_LIMITED),
        (429, "Too Many Requests", RetryReason.RATE_LIMITED),
        (200, {"code": 50002}, RetryReason.FAULT),
        (502, "Bad Gateway", RetryReason.FAULT),
    ],
)
def test_each_answer_maps_to_its_reason(status: int, body: object, reason: RetryReason) -> None:
    assert retry_reason(classify(status, body)) is reason


def life(reason: RetryReason, draw: float, receives: int = 14) -> int:
    """Seconds a message failing for `reason` on every delivery spends waiting before SQS moves it."""
    return sum(
        visibility_delay(reason, n, lease_seconds=LEASE, draw=lambda: draw) for n in range(1, receives)
    )


def test_a_copy_waiting_for_another_message_comes_back_within_a_minute_and_stops_waiting_within_minutes() -> (
    None
):
    # The holder is usually mid-send: the copy looks again after 1-2 s. However long the holder takes, the
    # copy sees its outcome (a receipt: duplicate; parked: its turn to send) within 60 s of it, and after
    # 14 deliveries (4.5-9 min) it takes over a claim no send holds instead of waiting any longer.
    assert visibility_delay(RetryReason.WAITING, 1, lease_seconds=LEASE, draw=HIGH) == 2
    assert (
        max(visibility_delay(RetryReason.WAITING, n, lease_seconds=LEASE, draw=HIGH) for n in range(1, 15))
        == 60
    )
    assert (life(RetryReason.WAITING, 0.0), life(RetryReason.WAITING, 1.0)) == (271, 542)
