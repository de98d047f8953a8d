"""In-memory implementations of the domain's ports, for unit tests without sockets."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ttrelay.dedup import ClaimResult
from ttrelay.events_api import Classification, Verdict, classify


@dataclass
class MemoryQueue:
    bodies: list[str] = field(default_factory=list)

    def send(self, body: str) -> None:
        self.bodies.append(body)


@dataclass
class MemoryDedup:
    """The state machine of ttrelay.dedup, kept in a dict (the DynamoDB one is tested against moto)."""

    lease_seconds: int = 120
    items: dict[str, dict[str, object]] = field(default_factory=dict)
    writes: int = 0

    def claim_many(self, keys: Sequence[str], owner: str, now: float) -> dict[str, ClaimResult]:
        return {key: self.claim(key, owner, now) for key in keys}

    def claim(self, key: str, owner: str, now: float) -> ClaimResult:
        item = self.items.get(key)
        if item is not None and not (item["state"] == "in_flight" and float(item["lease_until"]) < now):  # type: ignore[arg-type]
            return ClaimResult.DELIVERED if item["state"] == "delivered" else ClaimResult.BUSY
        self.items[key] = {"state": "in_flight", "owner": owner, "lease_until": now + self.lease_seconds}
        self.writes += 1
        return ClaimResult.CLAIMED

    def mark_delivered(self, keys: Sequence[str], now: float) -> None:
        for key in keys:
            self.items[key] = {"state": "delivered"}
            self.writes += 1

    def release(self, keys: Sequence[str], owner: str) -> None:
        for key in keys:
            item = self.items.get(key)
            if item and item["state"] == "in_flight" and item["owner"] == owner:
                del self.items[key]
                self.writes += 1


@dataclass
class ScriptedEventsApi:
    """Answers each send with the next scripted (http_status, body), or with `respond(body)`, and
    records the request bodies. Without a script or a responder every request succeeds."""

    script: list[tuple[int | None, object]] = field(default_factory=list)
    respond: Callable[[dict[str, object]], tuple[int | None, object]] | None = None
    requests: list[dict[str, object]] = field(default_factory=list)

    def send(self, pixel_code: str, body: dict[str, object]) -> Classification:
        self.requests.append(body)
        if self.script:
            status, answer = self.script.pop(0)
        elif self.respond is not None:
            status, answer = self.respond(body)
        else:
            return Classification(Verdict.SUCCESS, "code:0", code=0)
        return classify(status, answer, None if status is not None else "timeout")


@dataclass
class MemoryDeadLetters:
    parked: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def park(self, body: str, reason: str, detail: dict[str, str]) -> None:
        self.parked.append((body, reason, detail))
