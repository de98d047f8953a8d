"""How many passes the collector makes over one request (issue 18): the body is parsed once, the envelope
validated once, each event and its properties once, each identifier normalised once, the message
serialised once, and the queued message is never expanded into Events API items for the metrics.

Each spy counts the calls of one step during one collect call and its report (what the handler runs per
request); a change that reads the request twice fails here before it shows in `make bench`."""

import json
import sys
import types
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from support.fakes import MemoryQueue
from ttrelay.collect.cookie import SigningKeys
from ttrelay.collect.request_limits import BODY_DECODER
from ttrelay.collect.use_case import CollectDeps, CollectOutcome, HttpRequest, collect
from ttrelay.config import CollectSettings
from ttrelay.consent.model import ConsentSignals
from ttrelay.consent.policy import load_policy
from ttrelay.models import CollectEnvelope, EventIn, Properties, QueuedEvents
from ttrelay.observability.telemetry import report_collected
from ttrelay.privacy import hashing

PIXEL = "CTTRELAYTESTPIXEL001"
SITE = "https://shop.example.com"
NOW = 1_795_000_000.0
EVENTS = 3


def body(events: int) -> dict[str, Any]:
    return {
        "pixel_code": PIXEL,
        "consent": {"cmp": {"marketing": True}},
        "context": {"page_url": f"{SITE}/thanks?ttclid=E.C.P.passes&utm_source=tt", "referrer": f"{SITE}/"},
        "user": {"email": " Jane.Doe@Example.com ", "phone": "+33 6 12 34 56 78", "external_id": "c-1"},
        "events": [
            {
                "event": "AddToCart",
                "event_id": f"o-{index}",
                # One event of three carries its own match key: read once too.
                "properties": {
                    "value": 9.5,
                    "currency": "EUR",
                    **({"email": "b@example.com"} if index else {}),
                },
            }
            for index in range(events)
        ],
    }


def run_collect(events: int) -> CollectOutcome:
    settings = CollectSettings.model_validate(
        {
            "events_queue_url": "q",
            "cookie_keys_secret_arn": "s",
            "pixel_codes": (PIXEL,),
            "allowed_origins": (SITE,),
        }
    )
    deps = CollectDeps(
        settings=settings,
        queue=MemoryQueue(),
        policy=load_policy(),
        signing_keys=lambda: SigningKeys.from_secret({"active_kid": "k1", "k1": "x" * 40}),
        clock=lambda: NOW,
    )
    request = HttpRequest(
        body=json.dumps(body(events)).encode(),
        headers={"content-type": "text/plain", "origin": SITE},
        cookies={},
        source_ip="203.0.113.24",
        user_agent="Mozilla/5.0 test",
    )
    outcome = collect(request, deps)
    report_collected(outcome, known_pixels=(PIXEL,))
    return outcome


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    counted: Counter[str] = Counter()

    def spy(owner: object, name: str, label: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        def counting(*args: Any, **kwargs: Any) -> Any:
            counted[label] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counting)

    spy(BODY_DECODER, "decode", "body parse")
    spy(json, "loads", "json.loads")  # no other JSON is read: no cookie here
    for model in (CollectEnvelope, EventIn, Properties, ConsentSignals):
        spy(model, "model_validate", f"{model.__name__}.model_validate")
    spy(QueuedEvents, "body", "QueuedEvents.body")
    spy(QueuedEvents, "api_events", "QueuedEvents.api_events")
    spy(QueuedEvents, "api_event", "QueuedEvents.api_event")
    for normaliser in ("normalise_email", "normalise_phone", "normalise_external_id"):
        spy(hashing, normaliser, normaliser)
    return counted


@pytest.mark.parametrize("events", [1, EVENTS])
def test_one_collect_call_reads_the_request_once(calls: Counter[str], events: int) -> None:
    run_collect(1)  # the first call loads lazily imported modules; count a warm one
    calls.clear()

    outcome = run_collect(events)

    assert outcome.accepted == events
    assert calls == {
        "body parse": 1,  # the body, parsed once (and nothing by json.loads)
        "CollectEnvelope.model_validate": 1,
        "EventIn.model_validate": events,
        "Properties.model_validate": events,
        "ConsentSignals.model_validate": 1,  # the request's own signals (no CMP cookies here)
        "QueuedEvents.body": 1,  # serialised once, for its size and for SQS
        # user's email, phone and external id once each; each event but the first has its own email
        "normalise_email": 1 + (events - 1),
        "normalise_phone": 1,
        "normalise_external_id": 1,
    }, "a step ran more or fewer times per request than the module docstring says"


def test_a_warm_collect_call_raises_nothing_on_its_way() -> None:
    """No exception is raised and caught on the way of an accepted request: each costs microseconds
    (two `KeyError`s of unset variables cost 13 µs, and an `AttributeError` that `dict(model)` raised
    looking for `keys` 2 µs). Counted by sys.monitoring, which sees exceptions caught in Python code."""
    monitoring = sys.monitoring
    tool = next(tool for tool in range(2, 6) if monitoring.get_tool(tool) is None)
    raised: list[str] = []

    def on_raise(code: types.CodeType, offset: int, exception: BaseException) -> None:
        raised.append(f"{type(exception).__name__} in {code.co_name} ({code.co_filename})")

    run_collect(1)  # the first call loads lazily imported modules; watch a warm one
    monitoring.use_tool_id(tool, "hot path raises")
    try:
        monitoring.register_callback(tool, monitoring.events.RAISE, on_raise)
        monitoring.set_events(tool, monitoring.events.RAISE)
        outcome = run_collect(EVENTS)
        outcome.body_json()
    finally:
        monitoring.set_events(tool, 0)
        monitoring.register_callback(tool, monitoring.events.RAISE, None)
        monitoring.free_tool_id(tool)

    assert outcome.accepted == EVENTS
    assert raised == []
