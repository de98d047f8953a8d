"""The live inspector's feed, against an in-process local stack with its event source running.

Given requests a site would send (granted, refused by consent, partly unusable, refused for its origin),
the feed must explain each one and follow each event to the fake Events API or the DLQ, and must never
contain a raw identifier, a full hash, a cookie value or the click-id token.
"""

import hashlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from support.paths import ROOT
from support.stack import wait_for
from ttrelay_dev.local.stack import LocalStack, StackOptions

EMAIL = "Jane.Inspector@Example.com"
PHONE = "+1 415 555 0199"
TTCLID = "E.C.P.inspectorclickid"
EMAIL_SHA = hashlib.sha256(EMAIL.strip().lower().encode()).hexdigest()
GRANTED = {"cmp": {"marketing": True}}
# klaro's cookie refusing the `tiktok` service: a refusal that only the CMP's cookies carry.
KLARO_REFUSAL = quote('{"tiktok":false}')


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    log = (tmp_path_factory.mktemp("inspector") / "functions.log").open("w")
    options = StackOptions(
        root=ROOT,
        port=0,
        visibility_timeout=3,
        parameter_overrides={"ForwardBatchWindowSeconds": "1"},
        log_output=log,
    )
    local = LocalStack(options).start()
    yield local
    local.stop()
    log.close()


def post(stack: LocalStack, body: dict[str, Any], **headers: str) -> httpx.Response:
    headers = {"origin": stack.base_url, **headers}
    return httpx.post(f"{stack.base_url}/events", json=body, headers=headers, timeout=30)


def feed(stack: LocalStack) -> dict[str, Any]:
    response = httpx.get(f"{stack.base_url}/_local/inspector/feed", timeout=30)
    assert response.status_code == 200
    return dict(response.json())


def request_with(stack: LocalStack, event_id: str) -> dict[str, Any]:
    """The feed entry whose events include `event_id`, once its receipt and deliveries have settled."""
    matching = [r for r in feed(stack)["requests"] if any(e["event_id"] == event_id for e in r["events"])]
    assert len(matching) == 1, matching
    return matching[0]


def event_in(request: dict[str, Any], event_id: str) -> dict[str, Any]:
    return next(event for event in request["events"] if event["event_id"] == event_id)


def settled(stack: LocalStack, event_id: str, status: str) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        request = request_with(stack, event_id)
        ok = request.get("decision", {}).get("receipt") and event_in(request, event_id)["status"] == status
        return request if ok else None

    return dict(wait_for(ready, timeout=60))


def test_a_granted_request_is_followed_to_the_events_api_with_masked_match_keys(stack: LocalStack) -> None:
    body = {
        "consent": GRANTED,
        "user": {"email": EMAIL, "phone": PHONE},
        "context": {"page_url": f"https://shop.example.com/thanks?ttclid={TTCLID}"},
        "events": [
            {
                "event": "Purchase",
                "event_id": "insp-granted-1",
                "properties": {"value": 9.5, "currency": "EUR"},
            }
        ],
    }
    response = post(stack, body)
    assert response.status_code == 202
    token = response.json()["token"]
    assert token

    request = settled(stack, "insp-granted-1", "delivered")

    assert request["outcome"] == "forwarded" and request["status"] == 202
    assert request["sender"] == {"kind": "browser", "origin": stack.base_url}
    assert request["token_issued"] is True
    decision = request["decision"]
    assert (decision["action"], decision["regime"], decision["reason"]) == ("forward", "opt_in", "grant:cmp")
    assert "granted by your CMP" in decision["explanation"]
    receipt = decision["receipt"]
    assert receipt["signal_sources"] == {"request": ["cmp"], "cookies": []}
    assert receipt["location"]["source"] == "none" and "unknown" in receipt["location"]["explanation"]
    attempt = event_in(request, "insp-granted-1")["attempts"][-1]
    assert (attempt["http_status"], attempt["code"], attempt["message"]) == (200, 0, "OK")
    assert attempt["request_id"]
    keys = attempt["match_keys"]
    assert keys["email"] == EMAIL_SHA[:8] + "…"
    assert len(keys["phone"]) == 9 and keys["phone"].endswith("…")
    assert keys["ttclid"] == TTCLID[:6] + "…" and keys["ip"] == "127.0.0.x"
    assert_nothing_raw(feed(stack), EMAIL, PHONE, "4155550199", TTCLID, EMAIL_SHA, token)


def test_a_request_without_consent_explains_why_nothing_was_sent(stack: LocalStack) -> None:
    response = post(
        stack, {"user": {"email": EMAIL}, "events": [{"event": "ViewContent", "event_id": "insp-drop-1"}]}
    )
    assert response.json()["decision"]["action"] == "drop"

    request = settled(stack, "insp-drop-1", "dropped")

    assert request["outcome"] == "dropped" and request["counts"]["dropped"] == 1
    explanation = request["decision"]["explanation"]
    assert explanation.startswith("No consent signal, and the visitor's region needs opt-in: nothing sent")
    assert request["decision"]["receipt"]["signals_present"] == []
    assert "attempts" not in event_in(request, "insp-drop-1")
    assert_nothing_raw(feed(stack), EMAIL)


def test_a_refusal_read_from_cmp_cookies_is_attributed_to_the_cookies(stack: LocalStack) -> None:
    post(
        stack,
        {"consent": GRANTED, "events": [{"event": "Purchase", "event_id": "insp-cookie-1"}]},
        cookie=f"klaro={KLARO_REFUSAL}; other=secret-cookie-value",
    )

    request = settled(stack, "insp-cookie-1", "dropped")

    assert request["decision"]["reason"] == "deny:cookie.cmp:marketing"
    assert ", read from the CMP's cookies" in request["decision"]["explanation"]
    assert request["decision"]["receipt"]["signal_sources"] == {"request": ["cmp"], "cookies": ["cmp"]}
    assert request["cookie_names"] == ["klaro", "other"]
    assert_nothing_raw(feed(stack), "secret-cookie-value", KLARO_REFUSAL)


def test_a_mixed_request_shows_the_rejected_event_with_its_error_path(stack: LocalStack) -> None:
    events = [
        {"event": "AddToCart", "event_id": "insp-mixed-ok"},
        {"event": "", "event_id": "insp-mixed-bad"},
    ]
    response = post(stack, {"consent": GRANTED, "events": events})
    assert response.status_code == 202 and response.json()["accepted"] == 1

    request = settled(stack, "insp-mixed-ok", "delivered")

    assert request["counts"]["accepted"] == 1 and request["counts"]["rejected"] == 1
    bad = event_in(request, "insp-mixed-bad")
    assert bad["status"] == "rejected" and "attempts" not in bad
    assert [error["loc"] for error in bad["errors"]] == ["events.1.event"]


def test_a_permanently_failing_event_is_shown_parked_with_the_dlq_reason(stack: LocalStack) -> None:
    faults = {"permanent_event_ids": ["insp-parked-1"], "permanent_code": 40002}
    assert httpx.post(f"{stack.base_url}/_local/tiktok/faults", json=faults).status_code == 200
    try:
        post(stack, {"consent": GRANTED, "events": [{"event": "Purchase", "event_id": "insp-parked-1"}]})
        request = settled(stack, "insp-parked-1", "parked")
    finally:
        httpx.post(f"{stack.base_url}/_local/tiktok/faults", json={})

    event = event_in(request, "insp-parked-1")
    assert event["parked"]["reason"].startswith("code:40002")
    assert event["attempts"][-1]["code"] == 40002 and event["attempts"][-1]["accepted"] is False
    # Peeking the DLQ leaves the message where it is.
    assert wait_for(lambda: httpx.get(f"{stack.base_url}/_local/queue").json()["dlq"] == 1)


def test_a_refused_request_says_what_to_fix(stack: LocalStack) -> None:
    events = [{"event": "Purchase", "event_id": "insp-refused-1"}]
    assert post(stack, {"events": events}, origin="https://elsewhere.example").status_code == 403

    request = request_with(stack, "insp-refused-1")

    assert request["outcome"] == "refused" and request["status"] == 403
    assert request["error"]["code"] == "origin_not_allowed"
    assert "AllowedOrigins" in request["error"]["explanation"]
    assert event_in(request, "insp-refused-1")["status"] == "refused"


def test_a_backend_request_records_only_that_an_api_key_was_used(stack: LocalStack) -> None:
    key = "ttrelay-inspector-not-a-key"
    response = httpx.post(
        f"{stack.base_url}/events",
        json={"events": [{"event": "Purchase", "event_id": "insp-key-1"}]},
        headers={"authorization": f"Bearer {key}"},
    )
    assert response.status_code == 401

    request = request_with(stack, "insp-key-1")

    assert request["sender"] == {"kind": "backend", "api_key": True}
    assert request["error"]["code"] == "invalid_api_key"
    assert_nothing_raw(feed(stack), key)


def test_the_page_and_its_assets_are_served(stack: LocalStack) -> None:
    for path, media_type in (
        ("/_local/inspector/", "text/html"),
        ("/_local/inspector", "text/html"),
        ("/_local/inspector/inspector.js", "javascript"),
        ("/_local/inspector/inspector.css", "text/css"),
    ):
        response = httpx.get(f"{stack.base_url}{path}")
        assert response.status_code == 200, path
        assert media_type in response.headers["content-type"]
    assert httpx.get(f"{stack.base_url}/_local/inspector/../../template.yaml").status_code == 404
    assert 'href="/_local/inspector/"' in (ROOT / "web" / "demo" / "index.html").read_text()


def assert_nothing_raw(document: dict[str, Any], *secrets: str) -> None:
    text = json.dumps(document, ensure_ascii=False)
    for secret in secrets:
        assert secret not in text, f"{secret[:4]}… leaked into the inspector feed"
