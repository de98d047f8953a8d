"""In-memory implementations of the domain's ports, for unit tests without sockets."""

from collections.abc import Callable
from dataclasses import dataclass, field

from ttrelay.forward.events_api import Classification, Verdict, classify


@dataclass
class MemoryQueue:
    bodies: list[str] = field(default_factory=list)

    def send(self, body: str) -> None:
        self.bodies.append(body)


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
