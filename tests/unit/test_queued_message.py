"""The queued message (QueuedEvents v2): the request's context once per message, expanded by the forwarder
into the same Events API items as before; v1 messages still delivered, parked and redriven; a message SQS
could not take refused with a 413 before anything is queued; bounded growth from request to message."""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.adversarial import (
    ISSUE_14_USER_AGENT,
    in_memory_collect,
    issue_14_body,
    numeric_ids_body,
    received_bytes,
)
from support.fakes import MemoryDeadLetters, MemoryQueue, ScriptedEventsApi
from support.queued import sent_events
from ttrelay.forward.dedup import InMemoryDedupStore
from ttrelay.forward.dlq import ParkedMessage, summarise, with_claim_id
from ttrelay.forward.use_case import Forwarder, InboundMessage
from ttrelay.models import (
    DEFAULTED_FIELDS,
    SQS_MESSAGE_LIMIT,
    Properties,
    QueuedEvents,
    SharedContext,
    TikTokEvent,
    TikTokPage,
    TikTokUser,
    UserIn,
)
from ttrelay.privacy.hashing import hash_user_field
from ttrelay.privacy.match_keys import user_match_keys

GRANTED = {"cmp": {"marketing": True}}
PAGE = "https://shop.example.com/p/1?utm_source=tt"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0"


def collected(body: dict[str, Any], user_agent: str = USER_AGENT) -> str:
    """The SQS body collect() queues for `body` (a browser request from 203.0.113.24)."""
    queue = MemoryQueue()
    status, answer = in_memory_collect(queue)(json.dumps(body).encode(), user_agent)
    assert status == 202, answer
    (queued,) = queue.bodies
    return queued


def forwarded(*bodies: str) -> tuple[list[dict[str, Any]], MemoryDeadLetters]:
    """The Events API `data[]` items the forwarder sends for these SQS bodies, and its DLQ."""
    api, dlq = ScriptedEventsApi(), MemoryDeadLetters()
    forwarder = Forwarder(InMemoryDedupStore(), api, dlq, owner="w", clock=lambda: 1_795_000_100.0)
    forwarder.forward([InboundMessage(f"m{index}", body) for index, body in enumerate(bodies)])
    return [item for request in api.requests for item in request["data"]], dlq  # type: ignore[attr-defined]


def test_the_requests_context_is_queued_once_and_each_event_keeps_only_what_is_its_own() -> None:
    events = [
        {"event": "ViewContent", "event_id": "v-1"},
        {"event": "Purchase", "event_id": "o-1", "properties": {"value": 5, "email": "Jane@Work.example"}},
        {"event": "Lead", "event_id": "l-1"},
    ]
    body = {"consent": GRANTED, "context": {"page_url": PAGE, "locale": "en-US"}, "events": events}
    queued = collected({**body, "user": {"email": "jane.doe@example.com"}})
    message = json.loads(queued)
    assert message["v"] == 2
    assert queued.count(USER_AGENT) == 1 and queued.count("shop.example.com/p/1") == 1
    shared = message["shared"]
    assert shared["user"]["email"] == hash_user_field("email", "jane.doe@example.com")
    assert (shared["user"]["ip"], shared["user"]["locale"]) == ("203.0.113.24", "en-US")
    assert shared["page"] == {"url": PAGE}
    own = [event.get("user", {}) for event in message["events"]]
    assert own == [{}, {"email": hash_user_field("email", "jane@work.example")}, {}]
    assert not any("page" in event for event in message["events"])


def test_each_sent_event_has_the_user_the_collector_built_per_event_before_v2() -> None:
    user = {"email": ["jane.doe@example.com", "JANE@home.example"], "phone": "+14155550132", "city": "Berlin"}
    properties = {"email": ["jane@home.example", "jane@work.example"], "city": "Paris", "first_name": "Jane"}
    context = {"page_url": PAGE, "ttclid": "E.C.P.1", "ttp": "ttp-1", "locale": "de-DE"}
    events = [{"event": "Lead", "event_id": "l-1"}, {"event": "Purchase", "properties": properties}]
    queued = collected({"consent": GRANTED, "context": context, "user": user, "events": events})
    visit = {"ttclid": "E.C.P.1", "ttp": "ttp-1", "ip": "203.0.113.24", "user_agent": USER_AGENT}
    before = [  # what v1 queued in each event: user_match_keys over `user` then the event's properties
        TikTokUser(
            **user_match_keys([UserIn(**user), Properties(**event.get("properties", {}))], None),
            **visit,
            locale="de-DE",
        ).model_dump(exclude_none=True)
        for event in events
    ]
    assert [event["user"] for event in sent_events(queued)] == before
    emails = ["jane.doe@example.com", "jane@home.example", "jane@work.example"]
    assert before[1]["email"] == hash_user_field("email", emails)  # each digest once, `user`'s first
    assert before[1]["city"] == "Berlin"  # `user` first, as before


EMAIL_DIGEST = hash_user_field("email", "a@b.co")
V1 = json.dumps(  # as CollectFunction wrote it before v2: everything in each event
    {
        "v": 1,
        "pixel_code": "CTTRELAYTESTPIXEL001",
        "received_at": 1795000000.5,
        "events": [
            {
                "event": "Purchase",
                "event_time": 1795000000,
                "event_id": f"o-{index}",
                "user": {"email": EMAIL_DIGEST, "ip": "203.0.113.24", "user_agent": "UA"},
                "properties": {"value": 5.0, "currency": "EUR"},
                "page": {"url": PAGE},
                "limited_data_use": False,
            }
            for index in (1, 2)
        ],
        "receipt": {"action": "forward"},
        "claim_id": "c1",
    }
)  # fmt: skip
V2 = json.dumps(  # the same events as CollectFunction writes them now
    {
        "v": 2,
        "pixel_code": "CTTRELAYTESTPIXEL001",
        "received_at": 1795000000.5,
        "shared": {
            "user": {"email": EMAIL_DIGEST, "ip": "203.0.113.24", "user_agent": "UA"},
            "page": {"url": PAGE},
        },
        "events": [
            {"event": "Purchase", "event_time": 1795000000, "event_id": f"o-{index}",
             "properties": {"value": 5.0, "currency": "EUR"}}
            for index in (1, 2)
        ],
        "receipt": {"action": "forward"},
        "claim_id": "c2",
    }
)  # fmt: skip


def test_v1_and_v2_messages_of_the_same_events_reach_tiktok_identically() -> None:
    (v1, _), (v2, _) = forwarded(V1), forwarded(V2)
    assert v1 == v2 and len(v2) == 2
    assert v2[0]["user"]["user_agent"] == "UA" and v2[0]["page"] == {"url": PAGE}


def test_a_message_from_the_collector_reaches_tiktok_with_its_context_in_every_event() -> None:
    events = [{"event": "Lead", "event_id": f"l-{index}"} for index in range(3)]
    queued = collected(
        {
            "consent": GRANTED,
            "context": {"page_url": PAGE},
            "user": {"phone": "+14155550132"},
            "events": events,
        }
    )
    data, _ = forwarded(queued)
    assert [item["event_id"] for item in data] == ["l-0", "l-1", "l-2"]
    assert all(item["user"]["phone"] == hash_user_field("phone", "+14155550132") for item in data)
    assert all((item["user"]["user_agent"], item["page"]["url"]) == (USER_AGENT, PAGE) for item in data)
    assert data == sent_events(queued)  # fmt: skip


@pytest.mark.parametrize("body", [V1, V2], ids=["v1", "v2"])
def test_a_parked_message_keeps_its_shape_and_a_redrive_delivers_it_whole(body: str) -> None:
    api, dlq = ScriptedEventsApi(script=[(200, {"code": 40001, "message": "bad token"})]), MemoryDeadLetters()
    Forwarder(InMemoryDedupStore(), api, dlq, owner="w").forward([InboundMessage("m1", body)])
    ((parked, reason, _),) = dlq.parked
    assert reason == "code:40001"
    assert len(parked) <= len(body)  # parking never grows a message past what SQS took
    assert json.loads(parked)["v"] == json.loads(body)["v"]
    summary = summarise([ParkedMessage(parked, {"reason": reason}, 1)]).as_dict()
    assert (summary["events"], summary["by_event_name"]) == (2, {"Purchase": 2})  # dlq inspect
    redriven, _ = forwarded(with_claim_id(parked, "m1"))
    assert redriven == forwarded(body)[0] and redriven[0]["user"]["ip"] == "203.0.113.24"


def test_raw_identifiers_in_a_direct_producers_shared_user_are_hashed_before_sending() -> None:
    message = json.loads(V2)
    message["shared"]["user"]["email"] = ["A@B.co"]
    message["shared"]["user"]["external_id"] = ["CRM-1"]
    data, _ = forwarded(json.dumps(message))
    assert data[0]["user"]["email"] == hash_user_field("email", "a@b.co")
    assert "CRM-1" not in json.dumps(data)


def test_a_message_without_its_version_is_malformed_and_parked() -> None:
    message = json.loads(V2)
    del message["v"]
    data, dlq = forwarded(json.dumps(message))
    assert data == [] and [reason for _, reason, _ in dlq.parked] == ["malformed_message"]


def test_a_request_whose_message_sqs_could_not_take_is_a_413_and_nothing_is_queued() -> None:
    body = numeric_ids_body()  # within the 64 KB body and 50 events; ids grow into `contents` items
    queue = MemoryQueue()
    status, answer = in_memory_collect(queue)(body)
    assert status == 413 and answer["error"] == "message_too_large"
    assert str(SQS_MESSAGE_LIMIT) in answer["errors"][0]["msg"]
    assert "content_id" not in json.dumps(answer) and "v-1" not in json.dumps(answer)  # names no content
    assert queue.bodies == []
    # Half the events make a message SQS takes: the limit refuses only what cannot be queued.
    half = json.loads(body)
    half["events"] = half["events"][:25]
    assert in_memory_collect(queue)(json.dumps(half).encode())[0] == 202
    assert len(queue.bodies) == 1 and len(queue.bodies[0].encode()) < SQS_MESSAGE_LIMIT


# The request's own bytes, once, plus per event what the server adds (event_time, limited_data_use) and
# 64-hex digests for identifiers: the issue's 12 KB request, 41x before v2, must stay within 2x.
MAX_ISSUE_14_GROWTH = 2.0


def test_the_issues_request_queues_a_message_at_most_twice_its_size() -> None:
    body = issue_14_body()
    queue = MemoryQueue()
    assert in_memory_collect(queue)(body, ISSUE_14_USER_AGENT)[0] == 202
    (queued,) = queue.bodies
    assert len(json.loads(queued)["events"]) == 50
    assert len(queued.encode()) <= MAX_ISSUE_14_GROWTH * received_bytes(body, ISSUE_14_USER_AGENT)


users = st.builds(
    TikTokUser,
    email=st.one_of(st.none(), st.just([]), st.just(["a" * 64])),
    ip=st.one_of(st.none(), st.just("203.0.113.24")),
    locale=st.one_of(st.none(), st.just("")),
)
events = st.builds(
    TikTokEvent,
    event=st.just("Purchase"),
    event_time=st.just(1_795_000_000),
    event_id=st.just("o-1"),
    user=st.one_of(st.just(TikTokUser()), users),
    properties=st.one_of(st.just({}), st.just({"value": 0}), st.just({"contents": []})),
    page=st.one_of(st.none(), st.builds(TikTokPage, url=st.one_of(st.none(), st.just(PAGE)))),
    limited_data_use=st.booleans(),
)


@settings(max_examples=300)
@given(
    shared=st.one_of(st.none(), st.builds(SharedContext, user=users, page=st.none())),
    events=st.lists(events, min_size=1, max_size=3),
    receipt=st.one_of(st.just({}), st.just({"action": "forward"})),
    claim_id=st.sampled_from(["", "c-1"]),
)
def test_the_queued_body_leaves_out_exactly_what_equals_its_default(
    shared: SharedContext | None, events: list[TikTokEvent], receipt: dict[str, Any], claim_id: str
) -> None:
    """body() checks each non-None default itself instead of exclude_defaults (which validates a
    TikTokUser per event to compare): the same text, whatever holds its default."""
    message = QueuedEvents(
        v=2,
        pixel_code="CPIXEL",
        received_at=1.5,
        shared=shared,
        events=events,
        receipt=receipt,
        claim_id=claim_id,
    )
    assert message.body() == message.model_dump_json(exclude_none=True, exclude_defaults=True)


def test_every_queued_field_with_a_default_other_than_none_is_checked_by_body() -> None:
    """A field added with such a default must be added to DEFAULTED_FIELDS (and to body's checks)."""
    defaulted = {
        model.__name__: tuple(
            name
            for name, field in model.model_fields.items()
            if not field.is_required() and field.get_default(call_default_factory=True) is not None
        )
        for model in (QueuedEvents, SharedContext, TikTokEvent, TikTokUser, TikTokPage)
    }
    assert {name: fields for name, fields in defaulted.items() if fields} == DEFAULTED_FIELDS
