"""End to end, as a user runs it: `ttrelay dev` in its own process, events POSTed over loopback HTTP.

Asserts on the fake Events API's own record: hashed identifiers, one batched request, exactly once, and
a denied event never arriving.
"""

import time
from pathlib import Path

import httpx
import pytest
from support.stack import delivered_event_ids, fake_requests, wait_for

pytestmark = pytest.mark.e2e
SHA_EMAIL = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d"
SHA_PHONE = "9e1919ad78a34fd67a84bfbcf2fea14074065517bea32e92924771c3f92e5462"


def post(base: str, body: dict, **headers: str) -> httpx.Response:
    return httpx.post(f"{base}/events", json=body, headers={"origin": base, **headers}, timeout=30)


def test_granted_events_arrive_hashed_batched_and_exactly_once(base: str) -> None:
    httpx.delete(f"{base}/_local/tiktok/requests")
    user = {"email": " Jane.Doe@Example.com ", "phone": "+1 (415) 555-0132"}
    body = {
        "consent": {"cmp": {"marketing": True}},
        "user": user,
        "context": {"page_url": "https://shop.example.com/thanks?ttclid=E.C.P.e2e"},
        "events": [
            {"event": "AddToCart", "event_id": "e2e-atc-1", "properties": {"value": 0, "currency": "USD"}},
            {
                "event": "Purchase",
                "event_id": "e2e-order-1",
                "properties": {
                    "value": 42.5,
                    "currency": "USD",
                    "contents": [{"content_id": 1001, "quantity": 1}],
                },
            },
        ],
    }
    response = post(base, body)
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 2
    # The same order resent by the browser (a retry) must not be counted twice.
    assert post(base, body).status_code == 202

    wait_for(lambda: sorted(delivered_event_ids(base)) == ["e2e-atc-1", "e2e-order-1"], timeout=60)
    time.sleep(3)  # long enough for a wrong second delivery to show up
    assert sorted(delivered_event_ids(base)) == ["e2e-atc-1", "e2e-order-1"]
    accepted = [r for r in fake_requests(base) if r["accepted"]]
    request = accepted[0]["body"]
    assert len(request["data"]) == 2  # one request carried the request's events together
    for event in request["data"]:
        assert event["user"]["email"] == [SHA_EMAIL] and event["user"]["phone"] == [SHA_PHONE]
        assert event["user"]["ttclid"] == "E.C.P.e2e"
        assert event["limited_data_use"] is False
    purchase = next(e for e in request["data"] if e["event"] == "Purchase")
    assert purchase["properties"]["contents"][0]["content_id"] == "1001"
    assert "access-token" not in {h.lower() for h in accepted[0].get("headers", {})}
    assert httpx.get(f"{base}/_local/queue").json() == {"visible": 0, "in_flight": 0, "dlq": 0}


def test_a_denied_event_never_arrives(base: str) -> None:
    response = post(
        base,
        {
            "consent": {"cmp": {"marketing": False}},
            "user": {"email": "no@example.com"},
            "events": [{"event": "Purchase", "event_id": "e2e-denied-1"}],
        },
    )
    assert response.status_code == 202
    assert response.json()["decision"]["action"] == "drop"
    assert response.json()["token"] is None and "set-cookie" not in response.headers
    # A granted event sent afterwards arrives, so the denied one had every chance to arrive first.
    post(
        base,
        {
            "consent": {"cmp": {"marketing": True}},
            "events": [{"event": "Lead", "event_id": "e2e-after-deny"}],
        },
    )
    wait_for(lambda: "e2e-after-deny" in delivered_event_ids(base), timeout=60)
    assert "e2e-denied-1" not in [e["event_id"] for r in fake_requests(base) for e in r["body"]["data"]]


def test_retryable_faults_are_retried_until_delivered(base: str) -> None:
    httpx.post(f"{base}/_local/tiktok/faults", json={"error_rate": 1, "http_status": [503]})
    post(
        base,
        {"consent": {"cmp": {"marketing": True}}, "events": [{"event": "Lead", "event_id": "e2e-retry-1"}]},
    )
    wait_for(lambda: any(r["status"] == 503 for r in fake_requests(base)), timeout=60)
    httpx.post(f"{base}/_local/tiktok/faults", json={})
    wait_for(lambda: "e2e-retry-1" in delivered_event_ids(base), timeout=60)
    assert delivered_event_ids(base).count("e2e-retry-1") == 1


def test_bad_input_is_refused_with_a_4xx(base: str) -> None:
    headers = {"content-type": "application/json", "origin": base}
    response = httpx.post(f"{base}/events", content=b"{", headers=headers)
    assert response.status_code == 400 and response.json()["error"] == "invalid_json"
    response = post(base, {"events": [{"event": "", "properties": {"currency": "EUR"}}]})
    assert response.status_code == 400  # no usable event
    assert response.json()["errors"][0]["loc"] == "events.0.event"
    # An unreadable property only leaves the field out (docs/events.md): the event is still answered 202.
    response = post(base, {"events": [{"event": "Purchase", "properties": {"currency": "EURO"}}]})
    assert response.status_code == 202
    assert response.json()["warnings"][0]["loc"] == "events.0.properties.currency"


def test_static_snippet_is_served(base: str, tmp_path: Path) -> None:
    assert httpx.get(f"{base}/sdk/ttrelay.js").status_code in (200, 404)
    assert httpx.get(f"{base}/_local/nope").status_code == 404
