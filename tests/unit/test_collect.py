"""The collect use case: the POST /events contract, consent gating, hashing, the cookie — no AWS."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from support.fakes import MemoryQueue
from support.queued import sent_events
from ttrelay.collect.cookie import ClickIdCookie, SigningKeys, sign, verify
from ttrelay.collect.use_case import CollectDeps, CollectRejected, HttpRequest, collect
from ttrelay.config import CollectSettings
from ttrelay.consent.policy import load_policy

PIXEL = "CTTRELAYTESTPIXEL001"
SITE = "https://shop.example.com"
NOW = 1_795_000_000.0
KEYS = SigningKeys.from_secret({"active_kid": "k1", "k1": "x" * 40})
EMAIL = "Jane.Doe@Example.com"
EMAIL_SHA = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d"


def settings(**overrides: Any) -> CollectSettings:
    values = {
        "events_queue_url": "q",
        "cookie_keys_secret_arn": "s",
        "pixel_codes": (PIXEL,),
        "allowed_origins": (SITE,),
        **overrides,
    }
    return CollectSettings.model_validate(values)


@pytest.fixture
def queue() -> MemoryQueue:
    return MemoryQueue()


@pytest.fixture
def run(queue: MemoryQueue) -> Callable[..., Any]:
    def run(
        body: Any,
        *,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
        raw: bytes | None = None,
        **setting_overrides: Any,
    ) -> Any:
        deps = CollectDeps(
            settings=settings(**setting_overrides),
            queue=queue,
            policy=load_policy(),
            signing_keys=lambda: KEYS,
            clock=lambda: NOW,
        )
        request = HttpRequest(
            body=raw if raw is not None else json.dumps(body).encode(),
            headers={"content-type": "application/json", "origin": SITE, **(headers or {})},
            cookies=cookies or {},
            source_ip="203.0.113.24",
            user_agent="Mozilla/5.0 test",
        )
        return collect(request, deps)

    return run


def granted(**extra: Any) -> dict[str, Any]:
    return {
        "consent": {"cmp": {"marketing": True}},
        "events": [{"event": "Purchase", "event_id": "o-1"}],
        **extra,
    }


def queued(queue: MemoryQueue) -> dict[str, Any]:
    assert len(queue.bodies) == 1
    return json.loads(queue.bodies[0])


def sent(queue: MemoryQueue) -> list[dict[str, Any]]:
    """The queued events as the forwarder sends them, with the message's shared context merged in."""
    assert len(queue.bodies) == 1
    return sent_events(queue.bodies[0])


def test_granted_request_is_queued_whole_with_hashed_identifiers_and_server_enrichment(run, queue) -> None:
    body = granted(
        user={"email": EMAIL, "phone": "+1 415-555-0132", "external_id": "CRM-00042"},
        events=[
            {"event": "Purchase", "event_id": "o-1", "properties": {"value": 0, "currency": "EUR"}},
            {"event": "ViewContent", "event_id": "v-1"},
        ],
    )
    outcome = run(body, headers={"sec-gpc": "0"})
    assert (outcome.accepted, outcome.dropped, outcome.decision.action) == (2, 0, "forward")
    message = queued(queue)
    assert message["pixel_code"] == PIXEL
    first = sent(queue)[0]
    assert first["user"]["email"] == [EMAIL_SHA]
    assert first["user"]["phone"] == ["9e1919ad78a34fd67a84bfbcf2fea14074065517bea32e92924771c3f92e5462"]
    assert first["user"]["ip"] == "203.0.113.24" and first["user"]["user_agent"] == "Mozilla/5.0 test"
    assert first["properties"] == {"value": 0.0, "currency": "EUR"}  # value 0 is kept
    assert first["event_time"] == int(NOW)
    assert message["receipt"]["action"] == "forward"
    raw = queue.bodies[0]
    assert EMAIL not in raw and EMAIL.lower() not in raw and "CRM-00042" not in raw and "555-0132" not in raw


def test_no_signal_in_an_opt_in_region_drops_everything_queues_nothing_and_sets_no_cookie(run, queue) -> None:
    outcome = run(
        {"user": {"email": EMAIL}, "context": {"ttclid": "E.C.P.x"}, "events": [{"event": "Purchase"}]}
    )
    assert (outcome.accepted, outcome.dropped, outcome.decision.action) == (0, 1, "drop")
    assert outcome.decision.regime == "opt_in"
    assert outcome.token is None
    assert queue.bodies == []


def test_sec_gpc_header_denies_in_an_opt_in_region(run, queue) -> None:
    outcome = run(granted(), headers={"sec-gpc": "1"})
    assert outcome.decision.action == "drop"
    assert queue.bodies == []


def test_a_present_but_malformed_tcf_string_counts_as_a_denial(run, queue) -> None:
    outcome = run(granted(consent={"tcf": "not-a-tc-string", "cmp": {"marketing": True}}))
    assert outcome.decision.action == "drop"
    assert queue.bodies == []


def test_ttclid_comes_from_the_page_url_and_is_kept_in_a_signed_cookie(run, queue) -> None:
    outcome = run(granted(context={"page_url": "https://shop.example.com/p?ttclid=E.C.P.url&email=a@b.co"}))
    cookie = verify(outcome.token, KEYS, int(NOW), PIXEL)
    assert cookie is not None and cookie.ttclid == "E.C.P.url"
    event = sent(queue)[0]
    assert event["user"]["ttclid"] == "E.C.P.url"
    assert event["page"]["url"] == "https://shop.example.com/p?ttclid=E.C.P.url"  # PII query stripped


@pytest.mark.parametrize(
    ("page_url", "referrer", "expected"),
    [
        ("https://Shop.Example.com/thanks", "https://shop.example.com/land?ttclid=E.C.P.ref", "E.C.P.ref"),
        ("https://shop.example.com/t", "https://shop.example.com:443/l?ttclid=E.C.P.ref", "E.C.P.ref"),
        ("https://shop.example.com/t?ttclid=E.C.P.page", "https://shop.example.com/?ttclid=x", "E.C.P.page"),
        ("https://shop.example.com/t", "https://other.example/l?ttclid=E.C.P.ref", "E.C.P.cookie"),
        ("https://shop.example.com/t", "https://shop.example.com:8443/l?ttclid=E.C.P.ref", "E.C.P.cookie"),
        ("https://shop.example.com/t", "http://shop.example.com/l?ttclid=E.C.P.ref", "E.C.P.cookie"),
    ],
)
def test_ttclid_from_a_same_host_referrer_comes_after_the_page_url_and_before_the_cookie(
    run, queue, page_url, referrer, expected
) -> None:
    token = sign(ClickIdCookie("E.C.P.cookie", None, int(NOW) - 100, int(NOW) + 100, PIXEL), KEYS)
    run(granted(context={"page_url": page_url, "referrer": referrer}), cookies={"ttrelay": token})
    assert sent(queue)[0]["user"]["ttclid"] == expected


def test_ttclid_from_a_genuine_cookie_is_used_when_the_body_has_none(run, queue) -> None:
    token = sign(ClickIdCookie("E.C.P.cookie", "ttp-9", int(NOW) - 100, int(NOW) + 100, PIXEL), KEYS)
    outcome = run(granted(), cookies={"ttrelay": token})
    assert sent(queue)[0]["user"]["ttclid"] == "E.C.P.cookie"
    refreshed = verify(outcome.token, KEYS, int(NOW), PIXEL)
    assert refreshed is not None and refreshed.first_seen == int(NOW) - 100 and refreshed.exp > int(NOW) + 100


def test_a_tampered_cookie_is_ignored(run, queue) -> None:
    token = sign(ClickIdCookie("E.C.P.cookie", None, int(NOW), int(NOW) + 100, PIXEL), KEYS)
    run(granted(), cookies={"ttrelay": token[:-2] + "AA"})
    assert "ttclid" not in sent(queue)[0]["user"]


def test_text_plain_bodies_are_accepted_for_send_beacon(run, queue) -> None:
    outcome = run(granted(), headers={"content-type": "text/plain;charset=UTF-8"})
    assert outcome.accepted == 1


def test_missing_event_id_gets_a_server_id(run, queue) -> None:
    run(granted(events=[{"event": "Lead"}]))
    assert queued(queue)["events"][0]["event_id"].startswith("srv-")


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"headers": {"content-type": "application/x-www-form-urlencoded"}}, 415, "unsupported_media_type"),
        ({"raw": b"{not json"}, 400, "invalid_json"),
        ({"raw": b"\xff\xfe"}, 400, "invalid_json"),
        ({"headers": {"origin": "https://evil.example"}}, 403, "origin_not_allowed"),
        ({"max_body_bytes": 1024, "raw": b'{"events": [' + b" " * 2000 + b"]}"}, 413, "body_too_large"),
    ],
)
def test_bad_requests_get_a_clear_4xx_and_queue_nothing(run, queue, kwargs, status, error) -> None:
    with pytest.raises(CollectRejected) as caught:
        run(granted(), **kwargs)
    assert (caught.value.status, caught.value.error) == (status, error)
    assert queue.bodies == []


def test_schema_errors_name_the_field_but_never_echo_the_value(run, queue) -> None:
    secret_email = "private.person@example.com"
    with pytest.raises(CollectRejected) as caught:
        run(granted(user={"email": {"nested": secret_email}}))  # the envelope itself: a 400
    assert caught.value.status == 400
    assert all(error["loc"].startswith("user.email") for error in caught.value.errors)
    assert secret_email not in json.dumps(caught.value.errors)
    with pytest.raises(CollectRejected) as caught:  # no usable event: a 400 naming each event's errors
        run(granted(events=[{"event": "Purchase", "event_id": secret_email, "event_time": 1795000000123}]))
    # An email as event_id is itself an error now (docs/privacy.md, strict shapes), named but not echoed.
    assert [error["loc"] for error in caught.value.errors] == ["events.0.event_id", "events.0.event_time"]
    assert secret_email not in json.dumps(caught.value.errors)
    assert queue.bodies == []


def test_one_bad_event_never_sinks_the_others(run, queue) -> None:
    body = granted(
        events=[
            {"event": "Purchase", "event_id": "ok", "properties": {"currency": "XXX", "value": 5}},
            {"event": "", "event_id": "no-name"},
            {"event": "Lead", "event_id": "late", "event_time": int(NOW) - 30 * 86_400},
            "not an event",
        ]
    )
    outcome = run(body)
    assert (outcome.accepted, outcome.dropped) == (1, 0)
    (sent,) = queued(queue)["events"]
    assert sent["event_id"] == "ok" and sent["properties"] == {"value": 5.0}  # the currency left out
    answer = outcome.body()
    assert [(entry["index"], entry["event_id"]) for entry in answer["rejected"]] == [
        (1, "no-name"),
        (2, "late"),
        (3, None),
    ]
    assert [error["loc"] for entry in answer["rejected"] for error in entry["errors"]] == [
        "events.1.event",
        "events.2.event_time",
        "events.3",
    ]
    assert answer["warnings"] == [
        {
            "index": 0,
            "event_id": "ok",
            "loc": "events.0.properties.currency",
            "msg": "Value error, currency is not one TikTok accepts (ISO 4217, e.g. USD); left out",
        }
    ]


def test_the_events_source_is_accepted_but_neither_queued_nor_sent_to_tiktok(run, queue) -> None:
    events = [
        {"event": "AddToCart", "event_id": "cart-1", "source": "ttq"},
        {"event": "Purchase", "event_id": "T-1001", "source": "dataLayer"},
        {"event": "Lead", "event_id": "lead-1", "source": "ttrelay"},
        {"event": "Search", "event_id": "search-1", "source": "shopify"},
        {"event": "Lead", "event_id": "lead-2"},  # an older snippet sends no source
    ]
    outcome = run(granted(events=events))
    assert (outcome.accepted, outcome.body().get("rejected")) == (5, None)
    usable = [event.event.source for event in outcome.judgement.usable]
    assert usable == ["ttq", "dataLayer", "ttrelay", "shopify", None]
    assert all("source" not in event for event in queued(queue)["events"])
    assert '"ttq"' not in queue.bodies[0] and "dataLayer" not in queue.bodies[0]
    assert all("source" not in event for event in sent(queue))  # the Events API's data[] items


def test_an_unknown_source_rejects_only_its_event(run, queue) -> None:
    events = [
        {"event": "AddToCart", "event_id": "cart-1", "source": "ttq"},
        {"event": "Purchase", "event_id": "T-1001", "source": "gtm-server-side"},
        {"event": "Lead", "event_id": "lead-1"},
    ]
    answer = run(granted(events=events)).body()
    assert answer["accepted"] == 2
    assert [event["event_id"] for event in queued(queue)["events"]] == ["cart-1", "lead-1"]
    ((entry, error),) = [(entry, error) for entry in answer["rejected"] for error in entry["errors"]]
    assert (entry["index"], entry["event_id"], error["loc"], error["type"]) == (
        1,
        "T-1001",
        "events.1.source",
        "literal_error",
    )
    assert "gtm-server-side" not in json.dumps(answer)  # the value is named by rule, not echoed


def test_accepted_dropped_and_rejected_add_up_to_the_requests_events(run, queue) -> None:
    events = [{"event": "Lead"}, {"event": "Lead", "event_time": 12}, {"event": "Purchase"}]
    for consent, counts in [({"marketing": True}, (2, 0)), ({"marketing": False}, (0, 2))]:
        outcome = run({"consent": {"cmp": consent}, "events": events})
        body = outcome.body()
        assert (body["accepted"], body["dropped"], len(body["rejected"])) == (*counts, 1)
        assert body["accepted"] + body["dropped"] + len(body["rejected"]) == len(events)
    assert len(queue.bodies) == 1 and len(queued(queue)["events"]) == 2  # queued whole, in one message


def test_pixel_code_must_be_in_the_allowlist(run, queue) -> None:
    with pytest.raises(CollectRejected) as caught:
        run(granted(pixel_code="COTHERPIXEL000000000"))
    assert caught.value.status == 403
    with pytest.raises(CollectRejected) as caught:
        run(granted(), pixel_codes=(PIXEL, "COTHERPIXEL000000000"))
    assert caught.value.status == 400  # several pixels: the request must name one
    assert (
        run(granted(pixel_code="COTHERPIXEL000000000"), pixel_codes=(PIXEL, "COTHERPIXEL000000000")).accepted
        == 1
    )


def test_too_many_events_is_a_400(run, queue) -> None:
    with pytest.raises(CollectRejected) as caught:
        run(granted(events=[{"event": "ViewContent"}] * 3), max_events_per_request=2)
    assert caught.value.status == 400


def _onetrust(targeting: int) -> str:
    return f"isGpcEnabled=0&datestamp=Thu+Nov+26+2026&groups=C0001%3A1%2CC0002%3A0%2CC0004%3A{targeting}"


def test_without_consent_in_the_body_the_cmp_cookie_decides(run, queue) -> None:
    body = {"events": [{"event": "Purchase", "event_id": "o-1"}]}
    assert run(body, cookies={"OptanonConsent": _onetrust(1)}).decision.action == "forward"
    assert run(body, cookies={"OptanonConsent": _onetrust(0)}).decision.action == "drop"
    assert len(queue.bodies) == 1


def test_a_refusal_wins_whether_it_comes_from_the_body_or_the_cmp_cookie(run, queue) -> None:
    outcome = run(granted(consent={"cmp": {"marketing": False}}), cookies={"OptanonConsent": _onetrust(1)})
    assert (outcome.decision.action, outcome.decision.reason) == ("drop", "deny:cmp:marketing")
    gcm = {"gcm": {"ad_storage": "granted", "ad_user_data": "granted"}}
    outcome = run(granted(consent=gcm), cookies={"OptanonConsent": _onetrust(0)})
    assert (outcome.decision.action, outcome.decision.reason) == ("drop", "deny:cookie.cmp:marketing")
    assert outcome.receipt["signal_sources"] == {"request": ["gcm"], "cookies": ["cmp"]}
    assert queue.bodies == []


CLOUDFRONT = {
    "x-origin-verify": "edge-secret",
    "cloudfront-viewer-country": "US",
    "cloudfront-viewer-country-region": "CA",
    "cloudfront-viewer-address": "198.51.100.7:46532",
}


@pytest.mark.parametrize(
    ("secret", "regime", "ip"),
    [("edge-secret", "opt_out", "198.51.100.7"), (None, "opt_in", None), ("rotated", "opt_in", None)],
)
def test_cloudfront_viewer_headers_are_trusted_only_with_the_origin_secret(queue, secret, regime, ip) -> None:
    deps = CollectDeps(
        settings=settings(),
        queue=queue,
        policy=load_policy(),
        signing_keys=lambda: KEYS,
        origin_secret=lambda: secret,
        clock=lambda: NOW,
    )
    request = HttpRequest(
        body=json.dumps(granted()).encode(),
        headers={"content-type": "application/json", "origin": SITE, **CLOUDFRONT},
        cookies={},
        source_ip="203.0.113.24",
        user_agent="UA",
    )
    outcome = collect(request, deps)
    assert outcome.decision.regime == regime
    # Without the proof the TCP peer is CloudFront's edge, not the visitor: no IP is sent at all.
    assert sent_events(queue.bodies[0])[0]["user"].get("ip") == ip


def test_a_denial_expires_a_cookie_set_under_an_earlier_grant(run, queue) -> None:
    token = sign(ClickIdCookie("E.C.P.cookie", None, int(NOW), int(NOW) + 100, PIXEL), KEYS)
    denied = {"consent": {"cmp": {"marketing": False}}, "events": [{"event": "Lead"}]}
    assert run(denied, cookies={"ttrelay": token}).clear_cookie is True
    assert run(denied).clear_cookie is False


@pytest.mark.parametrize(
    "raw",
    [
        b'{"consent": {"cmp": {"marketing": false, "marketing": true}}, "events": [{"event": "Lead"}]}',
        b'{"consent": {"cmp": {"marketing": false}}, "consent": {"cmp": {"marketing": true}},'
        b' "events": [{"event": "Lead"}]}',
        b'{"consent": {"cmp": {"marketing": true}}, "events": [{"event": "Lead",'
        b' "properties": {"jane.doe@example.com": 1, "jane.doe@example.com": 2}}]}',
    ],
    ids=["category", "consent", "property"],
)
def test_a_name_repeated_within_one_object_is_a_400_never_the_last_one_wins(run, queue, raw) -> None:
    # JSON parsers disagree on which copy counts (Python keeps the last, others the first): a refusal
    # followed by a grant must not read as a grant, and nothing else may be read two ways either.
    with pytest.raises(CollectRejected) as caught:
        run(None, raw=raw)
    assert (caught.value.status, caught.value.error) == (400, "invalid_json")
    assert "jane" not in json.dumps(caught.value.errors) and "marketing" not in json.dumps(
        caught.value.errors
    )
    assert queue.bodies == []


# ---- decision probe: no events -----------------------------------------------------------------------


def test_a_probe_with_consent_answers_the_decision_and_sets_the_cookie_but_queues_nothing(run, queue) -> None:
    body = {"consent": {"cmp": {"marketing": True}}, "context": {"ttclid": "E.C.P.probe"}, "events": []}
    outcome = run(body)
    assert outcome.body() == {
        "accepted": 0,
        "dropped": 0,
        "decision": {"action": "forward", "regime": "opt_in", "reason": "grant:cmp"},
        "token": outcome.token,
    }
    cookie = verify(outcome.token, KEYS, int(NOW), PIXEL)
    assert cookie is not None and cookie.ttclid == "E.C.P.probe"
    assert queue.bodies == []


def test_a_probe_after_withdrawal_expires_the_cookie(run, queue) -> None:
    token = sign(ClickIdCookie("E.C.P.cookie", None, int(NOW), int(NOW) + 100, PIXEL), KEYS)
    refused = run({"consent": {"cmp": {"marketing": False}}, "events": []}, cookies={"ttrelay": token})
    assert (refused.decision.action, refused.token, refused.clear_cookie) == ("drop", None, True)
    assert queue.bodies == []


def test_a_probe_still_needs_its_events_list_and_an_allowed_sender(run) -> None:
    with pytest.raises(CollectRejected) as missing:
        run({"consent": {"cmp": {"marketing": True}}})
    assert (missing.value.status, missing.value.errors[0]["loc"]) == (400, "events")
    with pytest.raises(CollectRejected) as foreign:
        run({"events": []}, headers={"origin": "https://elsewhere.example"})
    assert foreign.value.status == 403
