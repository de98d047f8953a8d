"""Answers in the user's terms: no internal class names, no cookie for a backend, and a browser's
`context.ip` / `context.user_agent` ignored with a warning (issue 17, item 7)."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest
from support.fakes import MemoryQueue
from ttrelay import models
from ttrelay.collect import responses
from ttrelay.collect.cookie import SigningKeys, verify
from ttrelay.collect.rejection import CollectRejected
from ttrelay.collect.request_warnings import VISITOR_FIELD_IGNORED
from ttrelay.collect.senders import ApiKeyRing, api_key_digest
from ttrelay.collect.use_case import CollectDeps, CollectOutcome, HttpRequest, collect
from ttrelay.config import CollectSettings
from ttrelay.consent.policy import load_policy

PIXEL = "CTTRELAYTESTPIXEL001"
SITE = "https://shop.acme-shoes.com"
NOW = 1_795_000_000
KEYS = SigningKeys.from_secret({"active_kid": "k1", "k1": "x" * 40})
BACKEND_KEY = "ttr_backend-key-for-tests-0123456789abcdef"
RING = ApiKeyRing.from_secret(
    {"keys": [{"id": "b1", "hash": api_key_digest(BACKEND_KEY), "pixels": [PIXEL]}]}
)
BROWSER = {"origin": SITE}
BACKEND = {"authorization": f"Bearer {BACKEND_KEY}"}
GRANT = {"cmp": {"marketing": True}}


def post(body: object, headers: dict[str, str] = BROWSER) -> CollectOutcome:
    deps = CollectDeps(
        settings=CollectSettings.model_validate(
            {
                "events_queue_url": "q",
                "cookie_keys_secret_arn": "s",
                "pixel_codes": (PIXEL,),
                "allowed_origins": (SITE,),
            }
        ),
        queue=MemoryQueue(),
        policy=load_policy(),
        signing_keys=lambda: KEYS,
        api_keys=lambda: RING,
        clock=lambda: float(NOW),
    )
    request = HttpRequest(
        body=json.dumps(body).encode(),
        headers={"content-type": "application/json", **headers},
        cookies={},
        source_ip="81.2.69.160",
        user_agent="Browser/1.0",
    )
    return collect(request, deps)


def answer(body: object, headers: dict[str, str] = BROWSER) -> tuple[int, dict[str, Any]]:
    try:
        return 202, post(body, headers).body()
    except CollectRejected as rejected:
        return rejected.status, {"error": rejected.error, "errors": rejected.errors}


# -- a body that is not the JSON object we expect ---------------------------------------------------


@pytest.mark.parametrize("body", [[], [{"event": "Purchase"}], "events", 42, None])
def test_a_body_that_is_not_an_object_is_told_what_to_send(body: object) -> None:
    status, document = answer(body)
    assert (status, document["error"]) == (400, "invalid_request")
    assert document["errors"] == [
        {"loc": "", "type": "model_type", "msg": "the body must be a JSON object with an `events` list"}
    ]


@pytest.mark.parametrize("events", ["Purchase", {"0": {"event": "Purchase"}}, 1, None])
def test_events_that_are_not_a_list_are_told_so_in_json_terms(events: object) -> None:
    status, document = answer({"consent": GRANT, "events": events})
    assert (status, document["error"]) == (400, "invalid_request")
    told = [(error["loc"], error["msg"]) for error in document["errors"]]
    assert told == [("events", "must be a JSON list")]


def _internal_names() -> set[str]:
    """Our pydantic classes, and the Python types the contract is written in: none is the user's word."""
    classes = {
        name
        for module in (models, responses)
        for name, value in vars(module).items()
        if inspect.isclass(value) and issubclass(value, pydantic.BaseModel)
    }
    return classes | {"Sequence", "Mapping", "dict[", "list[", "tuple[", "Annotated", "NoneType"}


WRONG_VALUES: tuple[object, ...] = ([], ["x"], {}, "x", 1, 1.5, True, None)


def _bodies() -> Iterator[object]:
    """Each place of a request, event and properties included, given each JSON type it does not take."""
    event = {
        "event": "Purchase",
        "event_id": "o-1",
        "properties": {"value": 1, "contents": [{"content_id": "a"}]},
    }
    base: dict[str, Any] = {
        "pixel_code": PIXEL,
        "consent": {**GRANT, "gcm": {"ad_storage": "granted"}},
        "context": {"page_url": "https://shop.acme-shoes.com/", "ttclid": "E.C.P.x"},
        "user": {"email": "a@acme-shoes.com"},
        "events": [event],
    }
    for wrong in WRONG_VALUES:
        yield wrong
        for key in base:
            yield {**base, key: wrong}
        for key in ("consent", "context", "user"):
            for inner in base[key]:
                yield {**base, key: {**base[key], inner: wrong}}
        yield {**base, "events": [wrong]}
        for key in (*event, "event_time", "source"):
            yield {**base, "events": [{**event, key: wrong}]}
        for key in ("value", "currency", "contents", "content_id", "query"):
            yield {**base, "events": [{**event, "properties": {key: wrong}}]}
        yield {**base, "events": [{**event, "properties": {"contents": [wrong]}}]}


def test_no_answer_names_an_internal_class() -> None:
    internal = re.compile("|".join(re.escape(name) for name in _internal_names()))
    for body in _bodies():
        for headers in (BROWSER, BACKEND):
            status, document = answer(body, headers)
            text = json.dumps(document)
            assert not internal.search(text), (body, status, text)


def test_a_union_field_is_named_as_sent_not_by_pydantic_s_member_tags() -> None:
    status, document = answer({"consent": GRANT, "user": {"email": 5}, "events": [{"event": "Purchase"}]})
    assert status == 400
    assert {error["loc"] for error in document["errors"]} == {"user.email"}


# -- a backend has no browser -----------------------------------------------------------------------


def test_a_backend_gets_no_cookie_and_no_token_with_nothing_in_it() -> None:
    outcome = post({"consent": GRANT, "events": [{"event": "Purchase", "event_id": "o-1"}]}, BACKEND)
    assert outcome.accepted == 1 and outcome.backend
    assert outcome.token is None and outcome.body()["token"] is None


def test_a_backend_that_relays_a_click_id_gets_a_token_carrying_it() -> None:
    body = {
        "consent": GRANT,
        "context": {"page_url": "https://shop.acme-shoes.com/thanks?ttclid=E.C.P.relayed"},
        "events": [{"event": "Purchase", "event_id": "o-2"}],
    }
    outcome = post(body, BACKEND)
    carried = verify(outcome.token, KEYS, NOW, PIXEL)
    assert outcome.backend and carried is not None and carried.ttclid == "E.C.P.relayed"


def test_a_browser_still_gets_its_token() -> None:
    outcome = post({"consent": GRANT, "events": [{"event": "Purchase", "event_id": "o-3"}]})
    assert not outcome.backend and verify(outcome.token, KEYS, NOW, PIXEL) is not None


# -- a browser's visitor fields ---------------------------------------------------------------------

SPOOFED = {"ip": "8.8.8.8", "user_agent": "Spoofed/9.9"}


def test_a_browser_s_context_ip_and_user_agent_are_ignored_with_a_warning_that_echoes_neither() -> None:
    body = {"consent": GRANT, "context": SPOOFED, "events": [{"event": "Purchase", "event_id": "o-4"}]}
    outcome = post(body)
    assert outcome.accepted == 1
    assert outcome.visitor is not None and outcome.visitor.user_agent == "Browser/1.0"
    assert outcome.body()["warnings"] == [
        {"loc": "context.ip", "msg": VISITOR_FIELD_IGNORED},
        {"loc": "context.user_agent", "msg": VISITOR_FIELD_IGNORED},
    ]
    assert "8.8.8.8" not in json.dumps(outcome.body()) and "Spoofed" not in json.dumps(outcome.body())


def test_a_backend_s_context_ip_and_user_agent_are_the_visitor_s_without_a_warning() -> None:
    body = {"consent": GRANT, "context": SPOOFED, "events": [{"event": "Purchase", "event_id": "o-5"}]}
    outcome = post(body, BACKEND)
    assert outcome.visitor is not None and outcome.visitor.ip == "8.8.8.8"
    assert "warnings" not in outcome.body()
